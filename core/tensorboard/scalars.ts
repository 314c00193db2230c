import type { ScalarPoint } from './events'

/*
 * Scalars as the Runs page charts them. sd-scripts logs (train_network.py / sdxl_train.py):
 *   per step:  loss/current, loss/average, lr/unet, lr/textencoder or lr/group<i>, lr/d*lr/... (LoRA);
 *              loss, lr/unet, lr/text_encoder1, lr/text_encoder2 (fine-tune)
 *   per epoch: loss/epoch_average (LoRA), loss/epoch (fine-tune), with the epoch number as the step
 *   validation: loss/validation/...
 */

export type Series = Array<[number, number]>

/** Points by tag, in step order; a step logged twice keeps the later value (a resumed run). */
export class ScalarSeries {
  private byTag = new Map<string, Map<number, number>>()

  add(points: readonly ScalarPoint[]): void {
    for (const p of points) {
      let m = this.byTag.get(p.tag)
      if (!m) this.byTag.set(p.tag, (m = new Map()))
      m.set(p.step, p.value)
    }
  }

  tags(): string[] {
    return [...this.byTag.keys()].sort()
  }

  get(tag: string): Series {
    const m = this.byTag.get(tag)
    if (!m) return []
    return [...m.entries()].sort((a, b) => a[0] - b[0])
  }

  toRecord(): Record<string, Series> {
    return Object.fromEntries(this.tags().map((t) => [t, this.get(t)]))
  }
}

export type ChartKind = 'loss' | 'lr' | 'epoch' | 'validation' | 'other'

export interface ChartGroup {
  kind: ChartKind
  /** For 'other': the tag prefix (before the first "/"); otherwise null. */
  prefix: string | null
  tags: string[]
  /** What the x axis counts. */
  x: 'step' | 'epoch'
}

const EPOCH_TAGS = new Set(['loss/epoch_average', 'loss/epoch'])
const LOSS_TAGS = ['loss/current', 'loss/average', 'loss']

function kindOf(tag: string): { kind: ChartKind; prefix: string | null } {
  if (EPOCH_TAGS.has(tag)) return { kind: 'epoch', prefix: null }
  if (LOSS_TAGS.includes(tag)) return { kind: 'loss', prefix: null }
  if (tag.startsWith('loss/validation')) return { kind: 'validation', prefix: null }
  if (tag.startsWith('lr/')) return { kind: 'lr', prefix: null }
  const slash = tag.indexOf('/')
  return { kind: 'other', prefix: slash > 0 ? tag.slice(0, slash) : tag }
}

const ORDER: ChartKind[] = ['loss', 'lr', 'epoch', 'validation', 'other']

/** One chart per kind (loss, learning rates, loss per epoch, validation), then one per other prefix. */
export function groupCharts(tags: readonly string[]): ChartGroup[] {
  const groups = new Map<string, ChartGroup>()
  for (const tag of [...tags].sort()) {
    const { kind, prefix } = kindOf(tag)
    const key = `${kind}:${prefix ?? ''}`
    let g = groups.get(key)
    if (!g) groups.set(key, (g = { kind, prefix, tags: [], x: kind === 'epoch' ? 'epoch' : 'step' }))
    g.tags.push(tag)
  }
  const rank = (tag: string) => {
    const i = LOSS_TAGS.indexOf(tag)
    return i < 0 ? LOSS_TAGS.length : i
  }
  for (const g of groups.values()) if (g.kind === 'loss') g.tags.sort((a, b) => rank(a) - rank(b))
  return [...groups.values()].sort(
    (a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || (a.prefix ?? '').localeCompare(b.prefix ?? ''),
  )
}

/** Several series on one x axis (the union of their steps); a series without a point there has null. */
export function alignSeries(series: readonly Series[]): { x: number[]; ys: Array<Array<number | null>> } {
  const xs = [...new Set(series.flatMap((s) => s.map((p) => p[0])))].sort((a, b) => a - b)
  const index = new Map(xs.map((x, i) => [x, i]))
  const ys = series.map((s) => {
    const row: Array<number | null> = xs.map(() => null)
    for (const [x, y] of s) row[index.get(x) as number] = Number.isFinite(y) ? y : null
    return row
  })
  return { x: xs, ys }
}
