import { Notification } from 'electron'
import type { Services } from '../services'
import { noticeText } from '../services/runs/notice-text'
import { SettingsStore } from '../services/store/settings'

/** A native notification when a run finishes or fails (thin: the text comes from noticeText). */
export function showRunNotifications(services: Services, dataDir: string): () => void {
  const settings = new SettingsStore(dataDir)
  return services.runs.service.onNotice((notice) => {
    if (!Notification.isSupported()) return
    void settings
      .get()
      .then((s) => s.language)
      .catch(() => 'en' as const)
      .then((language) => {
        const { title, body } = noticeText(notice, language)
        new Notification({ title, body }).show()
      })
  })
}
