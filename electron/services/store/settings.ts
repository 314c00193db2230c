import path from 'node:path'
import { Settings } from '../../../core/api/domains/app'
import { readJsonFile, writeJsonAtomic } from './atomic'

export class SettingsStore {
  private readonly file: string
  private queue: Promise<unknown> = Promise.resolve()

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'settings.json')
  }

  get(): Promise<Settings> {
    return readJsonFile(this.file, Settings, () => Settings.parse({}))
  }

  /** Updates are serialised so two quick changes cannot overwrite each other. */
  update(patch: Partial<Settings>): Promise<Settings> {
    const next = this.queue.then(async () => {
      const merged = Settings.parse({ ...(await this.get()), ...patch })
      await writeJsonAtomic(this.file, merged)
      return merged
    })
    this.queue = next.catch(() => undefined)
    return next
  }
}
