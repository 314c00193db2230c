import { FITTED } from './constants'
import { predict, type VramPrediction } from './model'
import { isEightBit } from './optimizers'
import { effectiveFlags, isNetwork, VramScenario, type ScenarioPatch } from './scenario'

/**
 * What to change to need less memory, what each change saves, and the cheapest set of changes that fits a
 * target. Savings are computed by the model itself (prediction before − after), so they include every
 * interaction (e.g. fp8 saves little without checkpointing). Slowdowns are rough expected time factors.
 */

export type FitState = 'fits' | 'tight' | 'does_not_fit'

/**
 * Fits, honestly: the memory training can have is the card's total minus what the desktop and other
 * programs already use; "fits" needs the top of the prediction's uncertainty band under it. Above the
 * prediction itself it does not fit, also on Windows, where the driver spills into shared system memory
 * instead of failing (and training runs 10 to 100 times slower). In between it is tight.
 */
export function fitState(
  peakGib: number,
  totalGib: number,
  opts: { usedGib?: number; bandPct?: number } = {},
): FitState {
  const available = totalGib - Math.max(0, opts.usedGib ?? 0)
  const top = peakGib * (1 + (opts.bandPct ?? FITTED.band_pct) / 100)
  if (peakGib > available) return 'does_not_fit'
  if (top > available) return 'tight'
  return 'fits'
}

export type AdviceId =
  | 'gradient_checkpointing'
  | 'cache_text_encoder_outputs'
  | 'unet_only'
  | 'fp8_base'
  | 'cache_latents'
  | 'attention_sdpa'
  | 'batch_smaller'
  | 'lower_dim'
  | 'optimizer_8bit'
  | 'optimizer_adafactor'
  | 'fused_backward_pass'
  | 'full_half'
  | 'mixed_precision'
  | 'lycoris_bypass'

export interface AdviceItem {
  id: AdviceId
  /** i18n key in the 'vram' namespace; `values` fills its placeholders. */
  label_key: string
  values: Record<string, string | number>
  patch: ScenarioPatch
  /** Predicted peak saved, GiB (> 0). */
  saving_gib: number
  /** Expected time per step relative to now (1.25 = 25 % slower, 0.9 = 10 % faster). A rough estimate. */
  slowdown: number
  /** True when the change alters what is trained or how (not only speed and memory). */
  changes_result: boolean
}

interface Candidate {
  id: AdviceId
  values?: Record<string, string | number>
  patch: ScenarioPatch
  slowdown: number
  changes_result: boolean
}

const round2 = (x: number) => Math.round(x * 100) / 100

/** The options for one setting; "Make it fit" picks at most one per slot. */
type Slot = Candidate[]

/**
 * Expected slowdowns. Estimates, not measurements: gradient checkpointing recomputes the forward pass
 * ("about 25 % slower", the usual figure; sd-scripts only says it slows training); caching skips the VAE /
 * text-encoder forward of every step; fp8 adds a cast per layer call; default attention is slower than
 * SDPA; halving the batch (with doubled accumulation) uses the GPU less efficiently.
 */
const SLOWDOWN = {
  gradient_checkpointing: 1.25,
  cache_text_encoder_outputs: 0.97,
  unet_only: 0.9,
  fp8_base: 1.1,
  cache_latents: 0.9,
  attention_sdpa: 0.8,
  batch_halved: 1.1,
  lower_dim: 0.98,
  optimizer_8bit: 1.0,
  optimizer_adafactor: 1.05,
  fused_backward_pass: 1.0,
  full_half: 0.95,
  mixed_precision: 0.5,
  lycoris_bypass: 1.05,
} as const

/** "Make it fit" treats a change of the training result like this much slowdown, to prefer pure-memory changes. */
export const RESULT_CHANGE_PENALTY = 1.3

function slots(s: VramScenario, exclude: readonly AdviceId[] = []): Slot[] {
  return allSlots(s)
    .map((slot) => slot.filter((c) => !exclude.includes(c.id)))
    .filter((slot) => slot.length > 0)
}

function allSlots(s: VramScenario): Slot[] {
  const f = effectiveFlags(s)
  const network = isNetwork(s)
  const out: Slot[] = []
  if (!s.gradient_checkpointing) {
    out.push([
      {
        id: 'gradient_checkpointing',
        patch: { gradient_checkpointing: true },
        slowdown: SLOWDOWN.gradient_checkpointing,
        changes_result: false,
      },
    ])
  }
  if (!f.cacheTeOutputs) {
    const te: Slot = [
      {
        id: 'cache_text_encoder_outputs',
        patch: { cache_text_encoder_outputs: true, train_text_encoder: false },
        slowdown: SLOWDOWN.cache_text_encoder_outputs * (s.train_text_encoder ? SLOWDOWN.unet_only : 1),
        changes_result: s.train_text_encoder,
      },
    ]
    if (s.train_text_encoder) {
      te.push({
        id: 'unet_only',
        patch: { train_text_encoder: false },
        slowdown: SLOWDOWN.unet_only,
        changes_result: true,
      })
    }
    out.push(te)
  }
  if (network && !f.fp8Base) {
    const patch: ScenarioPatch = { fp8_base: true }
    if (s.mixed_precision === 'no') patch.mixed_precision = 'bf16'
    out.push([{ id: 'fp8_base', patch, slowdown: SLOWDOWN.fp8_base, changes_result: true }])
  }
  if (!s.cache_latents) {
    out.push([
      {
        id: 'cache_latents',
        patch: { cache_latents: true },
        slowdown: SLOWDOWN.cache_latents,
        changes_result: false,
      },
    ])
  }
  if (s.attention === 'none') {
    out.push([
      {
        id: 'attention_sdpa',
        patch: { attention: 'sdpa' },
        slowdown: SLOWDOWN.attention_sdpa,
        changes_result: false,
      },
    ])
  }
  if (s.batch_size > 1) {
    const batch: Slot = []
    for (let bs = Math.ceil(s.batch_size / 2), steps = 1; bs >= 1; bs = Math.ceil(bs / 2)) {
      steps++
      // keep the effective batch: accumulate the difference
      const accum = Math.ceil((s.batch_size * s.gradient_accumulation_steps) / bs)
      batch.push({
        id: 'batch_smaller',
        values: { from: s.batch_size, to: bs },
        patch: { batch_size: bs, gradient_accumulation_steps: accum },
        slowdown: round2(SLOWDOWN.batch_halved ** (steps - 1)),
        changes_result: false,
      })
      if (bs === 1) break
    }
    out.push(batch)
  }
  if (network && s.network_dim > 4) {
    const dims: Slot = []
    for (const div of [2, 4]) {
      const dim = Math.max(4, Math.floor(s.network_dim / div))
      if (dim >= s.network_dim || dims.some((d) => d.patch.network_dim === dim)) continue
      const patch: ScenarioPatch = { network_dim: dim, network_alpha: Math.min(s.network_alpha, dim) }
      if (s.conv_dim > 4) patch.conv_dim = Math.max(4, Math.floor(s.conv_dim / div))
      dims.push({
        id: 'lower_dim',
        values: { from: s.network_dim, to: dim },
        patch,
        slowdown: SLOWDOWN.lower_dim,
        changes_result: true,
      })
    }
    if (dims.length > 0) out.push(dims)
  }
  const opt: Slot = []
  if (!isEightBit(s.optimizer) && s.optimizer !== 'Adafactor') {
    opt.push({
      id: 'optimizer_8bit',
      values: { to: 'AdamW8bit' },
      patch: { optimizer: 'AdamW8bit', fused_backward_pass: false },
      slowdown: SLOWDOWN.optimizer_8bit,
      changes_result: s.optimizer !== 'AdamW' && s.optimizer !== 'PagedAdamW',
    })
  }
  if (s.optimizer !== 'Adafactor') {
    opt.push({
      id: 'optimizer_adafactor',
      values: { to: 'Adafactor' },
      patch: { optimizer: 'Adafactor' },
      slowdown: SLOWDOWN.optimizer_adafactor,
      changes_result: true,
    })
  }
  if (!network && !s.fused_backward_pass && s.gradient_accumulation_steps === 1) {
    opt.push({
      id: 'fused_backward_pass',
      patch: { optimizer: 'Adafactor', fused_backward_pass: true },
      slowdown:
        SLOWDOWN.fused_backward_pass * (s.optimizer === 'Adafactor' ? 1 : SLOWDOWN.optimizer_adafactor),
      changes_result: s.optimizer !== 'Adafactor',
    })
  }
  if (opt.length > 0) out.push(opt)
  if (s.mixed_precision === 'no') {
    out.push([
      {
        id: 'mixed_precision',
        values: { to: 'bf16' },
        patch: { mixed_precision: 'bf16' },
        slowdown: SLOWDOWN.mixed_precision,
        changes_result: true,
      },
    ])
  } else if (!f.fullHalf) {
    const patch: ScenarioPatch = s.mixed_precision === 'bf16' ? { full_bf16: true } : { full_fp16: true }
    out.push([
      {
        id: 'full_half',
        values: { to: s.mixed_precision === 'bf16' ? 'full_bf16' : 'full_fp16' },
        patch,
        slowdown: SLOWDOWN.full_half,
        changes_result: true,
      },
    ])
  }
  if ((s.training_type === 'loha' || s.training_type === 'lokr') && !s.lycoris_bypass_mode) {
    out.push([
      {
        id: 'lycoris_bypass',
        patch: { lycoris_bypass_mode: true },
        slowdown: SLOWDOWN.lycoris_bypass,
        changes_result: false,
      },
    ])
  }
  return out
}

export function applyPatch(s: VramScenario, patch: ScenarioPatch): VramScenario {
  return VramScenario.parse({ ...s, ...patch })
}

/** Each single change that saves memory, best saving first. */
export function adviceFor(
  s: VramScenario,
  base: VramPrediction = predict(s),
  exclude: readonly AdviceId[] = [],
): AdviceItem[] {
  const items: AdviceItem[] = []
  for (const slot of slots(s, exclude)) {
    for (const c of slot) {
      const after = predict(applyPatch(s, c.patch))
      const saving = base.peak_gib - after.peak_gib
      if (saving < 0.05) continue
      items.push({
        id: c.id,
        label_key: `advice.${c.id}`,
        values: c.values ?? {},
        patch: c.patch,
        saving_gib: round2(saving),
        slowdown: round2(c.slowdown),
        changes_result: c.changes_result,
      })
    }
  }
  return items.sort((a, b) => b.saving_gib - a.saving_gib)
}

export interface MakeItFit {
  /** The merged patch to apply. */
  patch: ScenarioPatch
  items: { id: AdviceId; label_key: string; values: Record<string, string | number> }[]
  peak_gib: number
  /** Expected time per step relative to now. */
  slowdown: number
  state: FitState
}

function cost(c: Candidate): number {
  return c.slowdown * (c.changes_result ? RESULT_CHANGE_PENALTY : 1)
}

/**
 * The set of changes (at most one per setting) that brings the peak to the target with the least
 * expected cost (slowdown, with result-changing settings penalised). Prefers a result that "fits" over
 * one that is only "tight" at equal cost; null when nothing fits. An exhaustive search over the slots:
 * a few hundred predictions for usual scenarios.
 */
export function makeItFit(
  s: VramScenario,
  totalGib: number,
  exclude: readonly AdviceId[] = [],
  usedGib = 0,
): MakeItFit | null {
  const all = slots(s, exclude)
  const now = predict(s).peak_gib
  let best: { chosen: Candidate[]; peak: number; cost: number; state: FitState } | null = null
  const chosen: Candidate[] = []
  const rank = (state: FitState) => (state === 'fits' ? 0 : 1)
  const visit = (i: number, patch: ScenarioPatch, c: number) => {
    if (best && c > best.cost * 1.0000001 && rank(best.state) === 0) return // cannot beat a fitting best
    if (i === all.length) {
      const peak = predict(applyPatch(s, patch)).peak_gib
      const state = fitState(peak, totalGib, { usedGib })
      if (state === 'does_not_fit' || peak > now) return
      const better =
        !best ||
        rank(state) < rank(best.state) ||
        (rank(state) === rank(best.state) &&
          (c < best.cost - 1e-9 || (Math.abs(c - best.cost) <= 1e-9 && peak < best.peak)))
      if (better) best = { chosen: [...chosen], peak, cost: c, state }
      return
    }
    visit(i + 1, patch, c)
    for (const cand of all[i]!) {
      chosen.push(cand)
      visit(i + 1, { ...patch, ...cand.patch }, c * cost(cand))
      chosen.pop()
    }
  }
  visit(0, {}, 1)
  if (!best) return null
  const b: { chosen: Candidate[]; peak: number; state: FitState } = best
  const patch = Object.assign({}, ...b.chosen.map((c) => c.patch)) as ScenarioPatch
  return {
    patch,
    items: b.chosen.map((c) => ({ id: c.id, label_key: `advice.${c.id}`, values: c.values ?? {} })),
    peak_gib: b.peak,
    slowdown: round2(b.chosen.reduce((x, c) => x * c.slowdown, 1)),
    state: b.state,
  }
}

export type WarningId =
  | 'no_attention_backend'
  | 'fp8_without_gc'
  | 'lycoris_without_gc'
  | 'windows_shared_memory'
  | 'adamw_step_spike'
  | 'fused_backward_ignored'
  | 'fp8_ignored_dreambooth'
  | 'cache_te_conflict'
  | 'full_half_needs_mixed'
  | 'paged_optimizer'

export interface VramWarning {
  id: WarningId
  label_key: string
  severity: 'info' | 'warning' | 'danger'
}

/** Physics and sd-scripts behaviour the user should know about for this scenario. */
export function warningsFor(s: VramScenario, peakGib?: number, totalGib?: number): VramWarning[] {
  const w: VramWarning[] = []
  const add = (id: WarningId, severity: VramWarning['severity']) =>
    w.push({ id, label_key: `warnings.${id}`, severity })
  const dreambooth = s.training_type === 'dreambooth'
  if (s.attention === 'none') add('no_attention_backend', 'danger')
  if (s.fp8_base && !dreambooth && !s.gradient_checkpointing) add('fp8_without_gc', 'warning')
  if (
    (s.training_type === 'loha' || s.training_type === 'lokr') &&
    !s.gradient_checkpointing &&
    !s.lycoris_bypass_mode
  ) {
    add('lycoris_without_gc', 'warning')
  }
  if (s.os === 'windows' && peakGib !== undefined && totalGib !== undefined && peakGib > totalGib) {
    add('windows_shared_memory', 'danger')
  }
  if (dreambooth && (s.optimizer === 'AdamW' || s.optimizer === 'SGDNesterov'))
    add('adamw_step_spike', 'info')
  if (s.fused_backward_pass && !(dreambooth && s.optimizer === 'Adafactor'))
    add('fused_backward_ignored', 'warning')
  if (s.fp8_base && dreambooth) add('fp8_ignored_dreambooth', 'warning')
  if (s.cache_text_encoder_outputs && s.train_text_encoder) add('cache_te_conflict', 'danger')
  if ((s.full_bf16 && s.mixed_precision !== 'bf16') || (s.full_fp16 && s.mixed_precision !== 'fp16')) {
    add('full_half_needs_mixed', 'danger')
  }
  if (s.optimizer.startsWith('Paged')) add('paged_optimizer', 'info')
  return w
}

export interface VramAssessment {
  prediction: VramPrediction
  advice: AdviceItem[]
  warnings: VramWarning[]
  /** Present when a total (GPU memory or a planning target) is given. */
  total_gib: number | null
  /** What the desktop and other programs already use of that total (nvidia-smi), GiB. */
  used_gib: number | null
  state: FitState | null
  make_it_fit: MakeItFit | null
}

/**
 * Everything the gauge shows for a scenario and an optional total. `exclude` leaves out changes the
 * caller cannot make (e.g. a form without a LyCORIS bypass field passes ['lycoris_bypass']).
 */
export function adviseFor(
  s: VramScenario,
  opts: { totalGib?: number | null; exclude?: readonly AdviceId[]; usedGib?: number | null } = {},
): VramAssessment {
  const exclude = opts.exclude ?? []
  const prediction = predict(s)
  const total = opts.totalGib ?? null
  const used = total === null ? 0 : Math.max(0, Math.min(opts.usedGib ?? 0, total))
  const state = total === null ? null : fitState(prediction.peak_gib, total, { usedGib: used })
  return {
    prediction,
    advice: adviceFor(s, prediction, exclude),
    warnings: warningsFor(s, prediction.peak_gib, total === null ? undefined : total - used),
    total_gib: total,
    used_gib: total === null ? null : used,
    state,
    make_it_fit: total === null || state === 'fits' ? null : makeItFit(s, total, exclude, used),
  }
}
