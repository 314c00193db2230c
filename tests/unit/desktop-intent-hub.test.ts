import { describe, expect, it } from 'vitest'
import type { ApiClient } from '../../core/api/client'
import type { RunRecord } from '../../core/runs/record'
import { IntentHub, PENDING_LIMIT } from '../../renderer/src/desktop/intent-hub'
import { onStartedRunsChange, startedRuns, trackStartedRuns } from '../../renderer/src/desktop/started-runs'

type Drop = { type: 'set-model-path'; path: string } | { type: 'add-image-folder'; path: string }

describe('intent hub (app shell → pages)', () => {
  it('delivers to subscribers of the kind only', () => {
    const hub = new IntentHub<Drop>({ waitMs: 1000 })
    const models: string[] = []
    const folders: string[] = []
    hub.subscribe(['set-model-path'], (i) => models.push(i.path))
    hub.subscribe(['add-image-folder'], (i) => folders.push(i.path))
    expect(hub.publish({ type: 'set-model-path', path: '/m.safetensors' })).toBe(true)
    expect(hub.publish({ type: 'add-image-folder', path: '/d/10_cat' })).toBe(true)
    expect(models).toEqual(['/m.safetensors'])
    expect(folders).toEqual(['/d/10_cat'])
  })

  it('keeps an intent until a page for it subscribes, then hands it over once', () => {
    const hub = new IntentHub<Drop>({ waitMs: 1000 })
    expect(hub.publish({ type: 'set-model-path', path: '/a' })).toBe(false)
    expect(hub.publish({ type: 'add-image-folder', path: '/d' })).toBe(false)
    const got: string[] = []
    const off = hub.subscribe(['set-model-path'], (i) => got.push(i.path))
    expect(got).toEqual(['/a'])
    expect(hub.waiting()).toEqual([{ type: 'add-image-folder', path: '/d' }])
    off()
    hub.subscribe(['set-model-path'], (i) => got.push(i.path))
    expect(got).toEqual(['/a'])
  })

  it('forgets what waited too long, and keeps only the newest', () => {
    let now = 0
    const hub = new IntentHub<Drop>({ waitMs: 1000, now: () => now })
    hub.publish({ type: 'set-model-path', path: '/old' })
    now = 1500
    hub.publish({ type: 'set-model-path', path: '/new' })
    const got: string[] = []
    hub.subscribe(['set-model-path'], (i) => got.push(i.path))
    expect(got).toEqual(['/new'])
    const capped = new IntentHub<Drop>({ waitMs: 1000 })
    for (let i = 0; i < PENDING_LIMIT + 5; i++) capped.publish({ type: 'add-image-folder', path: `/d${i}` })
    expect(capped.waiting()).toHaveLength(PENDING_LIMIT)
    expect(capped.waiting()[0]).toEqual({ type: 'add-image-folder', path: '/d5' })
  })

  it('never keeps a command for later (a Start must not fire by surprise)', () => {
    const hub = new IntentHub<{ type: 'start' }>({ waitMs: 0 })
    expect(hub.publish({ type: 'start' })).toBe(false)
    let started = 0
    hub.subscribe(['start'], () => started++)
    expect(started).toBe(0)
    expect(hub.handles('start')).toBe(true)
    hub.publish({ type: 'start' })
    expect(started).toBe(1)
  })
})

describe('runs started from this page', () => {
  it('are recorded from the starts that go through the API client', async () => {
    const record = (id: string) => ({ id }) as RunRecord
    const inner: ApiClient = {
      call: (async (method: string) => {
        if (method === 'run.start') return record('run-a')
        if (method === 'train.start') return record('run-b')
        if (method === 'run.rerun') return record('run-c')
        if (method === 'run.get') return record('not-started-here')
        throw new Error('refused')
      }) as ApiClient['call'],
      subscribe: () => ({ close: () => undefined, processed: () => undefined }),
    }
    const client = trackStartedRuns(inner)
    let changes = 0
    const off = onStartedRunsChange(() => changes++)
    await client.call('run.start', { command: ['x'], cwd: '/' })
    await client.call('train.start', { config: {} } as never)
    await client.call('run.rerun', { id: 'x' })
    await client.call('run.get', { id: 'x' })
    await expect(client.call('run.stop', { id: 'x' } as never)).rejects.toThrow('refused')
    off()
    expect([...startedRuns()]).toEqual(['run-a', 'run-b', 'run-c'])
    expect(changes).toBe(3)
  })
})
