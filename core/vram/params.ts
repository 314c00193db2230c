import { effectiveConvDim, isLycoris, type VramScenario } from './scenario'
import {
  TE1_FROZEN_PARAMS,
  TE1_PARAMS,
  TE2_PARAMS,
  TE1_LAYERS,
  TE2_LAYERS,
  UNET_LAYERS,
  UNET_PARAMS,
  adafactorStateElements,
  largestTensor,
  layerParams,
  type Layer,
} from './sdxl-layers'

/**
 * Trainable parameter counts from the real layer shapes (sdxl-layers.ts), per network type, following the
 * targeting rules of networks.lora and lycoris.kohya (vram.md §3, sd-scripts.md §2.4).
 */

const RESNET_LIKE = new Set(['resnet', 'downsample', 'upsample'])

function isLinearLike(l: Layer): boolean {
  return l.kind === 'linear' || (l.kind === 'conv' && l.k === 1)
}

function buildTargets(withResnets: boolean): { linear: Layer[]; conv: Layer[] } {
  const linear: Layer[] = []
  const conv: Layer[] = []
  for (const l of UNET_LAYERS) {
    if (l.kind !== 'linear' && l.kind !== 'conv') continue
    const targeted = l.owner === 'transformer' || (withResnets && RESNET_LIKE.has(l.owner))
    if (!targeted) continue
    if (isLinearLike(l)) linear.push(l)
    else conv.push(l)
  }
  return { linear, conv }
}
const TRANSFORMER_TARGETS = buildTargets(false)
const ALL_TARGETS = buildTargets(true)

/** U-Net layers a network wraps, split into those using network_dim and those using conv_dim. */
function unetTargets(s: VramScenario): { linear: Layer[]; conv: Layer[] } {
  const convDim = effectiveConvDim(s)
  // networks.lora: Transformer2DModel linears / 1x1 convs; with conv_dim also the resnet/down/up modules.
  // lycoris.kohya preset "full": all four module classes, always (its conv_dim falls back to network_dim).
  const withResnets = isLycoris(s) || convDim > 0
  const t = withResnets ? ALL_TARGETS : TRANSFORMER_TARGETS
  return convDim > 0 ? t : { linear: t.linear, conv: [] }
}

function teTargets(): Layer[] {
  return [...TE1_LAYERS, ...TE2_LAYERS].filter((l) => l.owner === 'te_attn' || l.owner === 'te_mlp')
}
const TE_TARGETS = teTargets()

/** LyCORIS `factorization(dimension, factor)`: the split m·n = dimension with m ≤ n, m as close to √ as the factor allows. */
const factorCache = new Map<number, [number, number]>()

export function factorization(dimension: number, factor = -1): [number, number] {
  const key = dimension * 100_000 + factor
  let hit = factorCache.get(key)
  if (!hit) {
    hit = factorize(dimension, factor)
    factorCache.set(key, hit)
  }
  return hit
}

function factorize(dimension: number, factor: number): [number, number] {
  if (factor > 0 && dimension % factor === 0) {
    const m = factor
    const n = dimension / factor
    return m > n ? [n, m] : [m, n]
  }
  const limit = factor < 0 ? dimension : factor
  let m = 1
  let n = dimension
  while (m < n) {
    let nm = m + 1
    while (dimension % nm !== 0) nm++
    const nn = dimension / nm
    if (nm + nn > m + n || nm > limit) break
    m = nm
    n = nn
  }
  return m > n ? [n, m] : [m, n]
}

/** Parameters of one module of the given algorithm wrapping layer `l` at rank `r` (no bias, no scalars). */
export function moduleParams(algo: 'lora' | 'loha' | 'lokr', l: Layer, r: number, factor = -1): number {
  const kk = l.k * l.k
  if (algo === 'lora') return r * (l.in * kk + l.out) // down: in·k·k → r, up: r → out (1x1)
  if (algo === 'loha') return 2 * r * (l.in * kk + l.out) // two low-rank pairs (vram.md §3)
  // LoKr: W ≈ w1 ⊗ w2; w1 is (out_l × in_m) full; w2 (out_k × in_n·k·k) is low-rank when r < max(out_k, in_n)/2.
  const [inM, inN] = factorization(l.in, factor)
  const [outL, outK] = factorization(l.out, factor)
  const w1 = outL * inM
  const w2 = r < Math.max(outK, inN) / 2 ? r * (outK + inN * kk) : outK * inN * kk
  return w1 + w2
}

/** Adafactor state elements of one module's tensors (rows + columns per ≥2-D tensor, as in sdxl-layers.ts). */
export function moduleAdafactorState(
  algo: 'lora' | 'loha' | 'lokr',
  l: Layer,
  r: number,
  factor = -1,
): number {
  const conv = l.kind === 'conv'
  const kk = l.k * l.k
  if (algo === 'lora') {
    // down (r, in[, k, k]) and up (out, r[, 1, 1]); a 4-D conv tensor (a, b, k, k) has factors of a·b·k each
    return conv ? 2 * r * l.in * l.k + 2 * l.out * r : r + l.in + l.out + r
  }
  if (algo === 'loha') return 2 * (l.out + r + r + l.in * kk) // hada_w*_a (out, r), hada_w*_b (r, in·k·k): 2-D
  const [inM, inN] = factorization(l.in, factor)
  const [outL, outK] = factorization(l.out, factor)
  let w2: number
  if (r < Math.max(outK, inN) / 2) w2 = outK + r + r + inN * kk
  else w2 = conv ? 2 * outK * inN * l.k : outK + inN
  return outL + inM + w2
}

export interface TrainableCounts {
  /** Trainable U-Net parameters. */
  unet: number
  /** Trainable text-encoder parameters. */
  te: number
  /** Parameters of the base layers a network wraps (U-Net): LoHa/LoKr materialise a delta this size. */
  wrappedUnet: number
  /** Largest single trainable tensor (elements). */
  largest: number
  /** Adafactor state elements over all trainable tensors. */
  adafactorState: number
  /** Element counts of every trainable tensor (8-bit optimizers keep 32-bit state for small ones). */
  tensors: number[]
  /** Parameters in tensors that start at zero: LoRA's up, LoHa's w2_a, LoKr's w2 (or w2_b). */
  zeroInit: number
}

/** Parameters of a module's zero-initialised tensor (networks.lora / LyCORIS initialisation). */
export function moduleZeroInit(algo: 'lora' | 'loha' | 'lokr', l: Layer, r: number, factor = -1): number {
  if (algo === 'lora' || algo === 'loha') return l.out * r // lora_up / hada_w2_a
  const t = moduleTensors(algo, l, r, factor)
  return t.length === 3 ? t[2]! : t[1]! // lokr_w2_b, or the full lokr_w2
}

/** The tensors (element counts) of one module of the given algorithm wrapping layer `l` at rank `r`. */
export function moduleTensors(algo: 'lora' | 'loha' | 'lokr', l: Layer, r: number, factor = -1): number[] {
  const kk = l.k * l.k
  if (algo === 'lora') return [r * l.in * kk, l.out * r]
  if (algo === 'loha') return [l.out * r, r * l.in * kk, l.out * r, r * l.in * kk]
  const [inM, inN] = factorization(l.in, factor)
  const [outL, outK] = factorization(l.out, factor)
  const w2 = r < Math.max(outK, inN) / 2 ? [outK * r, r * inN * kk] : [outK * inN * kk]
  return [outL * inM, ...w2]
}

/** Element counts of every weight and bias of the layers (a full fine-tune's trainable tensors). */
function layerTensors(layers: readonly Layer[]): number[] {
  const out: number[] = []
  for (const l of layers) {
    if (l.kind === 'norm') out.push(l.in, l.in)
    else if (l.kind === 'embedding') out.push(l.in * l.out)
    else {
      out.push(l.in * l.out * l.k * l.k)
      if (l.bias) out.push(l.out)
    }
  }
  return out
}

const cache = new Map<string, TrainableCounts>()

function algoOf(s: VramScenario): 'lora' | 'loha' | 'lokr' {
  return s.training_type === 'loha' ? 'loha' : s.training_type === 'lokr' ? 'lokr' : 'lora'
}

function networkCounts(s: VramScenario): TrainableCounts {
  const algo = algoOf(s)
  const convDim = effectiveConvDim(s)
  const { linear, conv } = unetTargets(s)
  let unet = 0
  let wrapped = 0
  let largest = 0
  let ada = 0
  const tensors: number[] = []
  let zeroInit = 0
  const add = (l: Layer, r: number, into: 'unet' | 'te') => {
    const n = moduleParams(algo, l, r, s.lokr_factor)
    tensors.push(...moduleTensors(algo, l, r, s.lokr_factor))
    zeroInit += moduleZeroInit(algo, l, r, s.lokr_factor)
    if (into === 'unet') {
      unet += n
      wrapped += layerParams(l)
    }
    // Largest tensor of the module: the larger low-rank factor (LoKr: bounded by the whole module).
    const big = algo === 'lokr' ? n : r * Math.max(l.in * l.k * l.k, l.out)
    if (big > largest) largest = big
    ada += moduleAdafactorState(algo, l, r, s.lokr_factor)
    return n
  }
  for (const l of linear) add(l, s.network_dim, 'unet')
  for (const l of conv) add(l, convDim, 'unet')
  let te = 0
  if (s.train_text_encoder) for (const l of TE_TARGETS) te += add(l, s.network_dim, 'te')
  return { unet, te, wrappedUnet: wrapped, largest, adafactorState: ada, tensors, zeroInit }
}

const UNET_LARGEST = largestTensor(UNET_LAYERS)
const UNET_ADAFACTOR = adafactorStateElements(UNET_LAYERS)

const UNET_TENSORS = layerTensors(UNET_LAYERS)

function fullCounts(s: VramScenario): TrainableCounts {
  // sdxl_train.py trains an encoder when its learning rate is not 0; TE1's last layer and final norm stay
  // frozen (they do not shape the penultimate hidden state it uses).
  const te1 = s.train_text_encoder && s.text_encoders_trained !== 'te2'
  const te2 = s.train_text_encoder && s.text_encoders_trained !== 'te1'
  const te = (te1 ? TE1_PARAMS - TE1_FROZEN_PARAMS : 0) + (te2 ? TE2_PARAMS : 0)
  return {
    unet: UNET_PARAMS,
    te,
    wrappedUnet: 0,
    largest: Math.max(UNET_LARGEST, te1 ? largestTensor(TE1_LAYERS) : 0, te2 ? largestTensor(TE2_LAYERS) : 0),
    adafactorState:
      UNET_ADAFACTOR +
      (te1 ? adafactorStateElements(TE1_LAYERS) : 0) +
      (te2 ? adafactorStateElements(TE2_LAYERS) : 0),
    tensors: [
      ...UNET_TENSORS,
      ...(te1 ? layerTensors(TE1_LAYERS) : []),
      ...(te2 ? layerTensors(TE2_LAYERS) : []),
    ],
    zeroInit: 0, // loaded weights
  }
}

/** Trainable parameter counts for a scenario (memoised on what they depend on: < 1 µs after the first call). */
export function trainableCounts(s: VramScenario): TrainableCounts {
  const key = `${s.training_type}|${s.network_dim}|${s.conv_dim}|${s.lokr_factor}|${s.train_text_encoder}|${s.text_encoders_trained}`
  let c = cache.get(key)
  if (!c) {
    c = s.training_type === 'dreambooth' ? fullCounts(s) : networkCounts(s)
    if (cache.size > 512) cache.clear()
    cache.set(key, c)
  }
  return c
}
