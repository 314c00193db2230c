import { Button, Menu } from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { RecentLists } from '../../../core/api/domains/desktop'
import { getApiClient } from '../api/client'
import { useShell } from './shell-context'

/** Long paths keep their end (the file or folder name), which is what tells them apart. */
function shortPath(p: string, max = 60): string {
  return p.length <= max ? p : `…${p.slice(p.length - max + 1)}`
}

/**
 * "Open" in the header: open a config (a file dialog in the desktop app, an upload in a browser), and the
 * recent configs and image folders (paths on the machine running SDXL Studio), as in the desktop app's menu.
 */
export function FileMenu() {
  const { t } = useTranslation('desktop')
  const shell = useShell()
  const [lists, setLists] = useState<RecentLists | null>(null)
  const load = () =>
    void getApiClient()
      .call('recent.list', {})
      .then(setLists)
      .catch(() => setLists({ configs: [], folders: [] }))
  const section = (kind: 'config' | 'folder', entries: RecentLists['configs']) => (
    <>
      <Menu.Label>{kind === 'config' ? t('open.recentConfigs') : t('open.recentFolders')}</Menu.Label>
      {entries.length === 0 ? (
        <Menu.Item disabled>{t('open.none')}</Menu.Item>
      ) : (
        entries.map((e) => (
          <Menu.Item
            key={e.path}
            title={e.path}
            onClick={() => shell.openPaths([e.path])}
            data-testid={`recent-${kind}`}
            style={{ fontFamily: 'monospace', fontSize: 12 }}
          >
            {shortPath(e.path)}
          </Menu.Item>
        ))
      )}
    </>
  )
  return (
    <Menu position="bottom-end" width={420} onOpen={load} withinPortal>
      <Menu.Target>
        <Button variant="subtle" size="compact-sm" data-testid="file-menu">
          {t('open.menu')}
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Item onClick={() => shell.runCommand('open-config')} data-testid="open-config">
          {t('open.config')}
        </Menu.Item>
        <Menu.Divider />
        {section('config', lists?.configs ?? [])}
        {section('folder', lists?.folders ?? [])}
        <Menu.Divider />
        <Menu.Item
          disabled={!lists || lists.configs.length + lists.folders.length === 0}
          onClick={() =>
            void getApiClient()
              .call('recent.clear', {})
              .then(setLists)
              .catch(() => undefined)
          }
          data-testid="recent-clear"
        >
          {t('open.clear')}
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  )
}
