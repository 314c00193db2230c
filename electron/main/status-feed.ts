import { desktopStatus, RunWatch, type DesktopStatus, type RunEnded } from '../../core/desktop/run-status'
import type { RunRecord } from '../../core/runs/record'
import type { Services } from '../services'

/**
 * Follows the services' runs and installs for the desktop shell (tray, taskbar, notifications): read-only
 * (it only subscribes to what the services publish). No electron import, so it is tested in Node with
 * real services and a real stand-in trainer.
 */
export class StatusFeed {
  private readonly runs = new Map<string, RunRecord>()
  private readonly watch = new RunWatch()
  private readonly installs = new Set<string>()
  private readonly offs: Array<() => void> = []
  private current: DesktopStatus = desktopStatus([])

  constructor(
    private readonly services: Pick<Services, 'runs' | 'env'>,
    private readonly onChange: (status: DesktopStatus) => void,
    private readonly onEnded: (ended: RunEnded) => void,
  ) {}

  async start(): Promise<void> {
    const service = this.services.runs.service
    // Subscribe first: an update that lands while the list loads is not lost (it is newer, so it wins).
    this.offs.push(service.onUpdate((u) => this.take(u.run)))
    for (const r of await service.list()) if (!this.runs.has(r.id)) this.runs.set(r.id, r)
    this.watch.seed([...this.runs.values()])
    this.offs.push(
      this.services.env.manager.onProgress((p) => {
        const had = this.installs.has(p.name)
        if (p.status === 'running') this.installs.add(p.name)
        else this.installs.delete(p.name)
        if (had !== this.installs.has(p.name)) this.refresh()
      }),
    )
    this.refresh()
  }

  private take(run: RunRecord): void {
    this.runs.set(run.id, run)
    const ended = this.watch.observe(run)
    this.refresh()
    if (ended) this.onEnded(ended)
  }

  private refresh(): void {
    this.current = desktopStatus([...this.runs.values()], {
      install: [...this.installs][0] ?? null,
      failed: this.watch.failed,
    })
    this.onChange(this.current)
  }

  get status(): DesktopStatus {
    return this.current
  }

  /** The user has looked at the app: a failure no longer needs the error bar or title. */
  acknowledge(): void {
    if (!this.watch.failed) return
    this.watch.acknowledge()
    this.refresh()
  }

  dispose(): void {
    for (const off of this.offs.splice(0)) off()
  }
}
