import { z } from 'zod'
import type { SafetensorsHeader, TensorInfo } from '../safetensors/header'

/*
 * What a LoRA file is, from its safetensors header (names, shapes) and its `.alpha` scalars.
 * Key layout (kohya-ss networks and LyCORIS, one module per adapted layer):
 *   <module>.lora_down.weight [r, in(, kh, kw)] + .lora_up.weight [out, r(, 1, 1)] (+ .lora_mid.weight)  LoRA / LoCon
 *   <module>.hada_w1_a [out, r], .hada_w1_b [r, in], .hada_w2_a, .hada_w2_b (+ .hada_t1/.hada_t2)      LoHa
 *   <module>.lokr_w1 | .lokr_w1_a/.lokr_w1_b, .lokr_w2 | .lokr_w2_a [o, r]/.lokr_w2_b [r, i] (+ .lokr_t2) LoKr
 *   <module>.weight + .on_input (IA3), .a1/.a2/.b1/.b2 .weight (GLoRA), .diff (full), .oft_blocks (OFT)
 *   <module>.alpha: one scalar per module (scale = alpha / rank)
 * SDXL module names (sd-scripts' own U-Net): lora_unet_input_blocks_<n>_…, lora_unet_middle_block_…,
 * lora_unet_output_blocks_<n>_…, and the two text encoders lora_te1_… / lora_te2_…. SD 1.x/2.x files
 * use lora_te_… and Diffusers block names (down_blocks, up_blocks).
 */

export const NETWORK_KINDS = [
  'lora',
  'locon',
  'loha',
  'lokr',
  'ia3',
  'glora',
  'full',
  'oft',
  'dylora',
  'unknown',
] as const
export const NetworkKind = z.enum(NETWORK_KINDS)
export type NetworkKind = z.infer<typeof NetworkKind>

export const BaseFamily = z.enum(['sdxl', 'sd1', 'other', 'unknown'])
export type BaseFamily = z.infer<typeof BaseFamily>

export const LoraProblem = z.object({
  code: z.string(),
  params: z.record(z.string(), z.union([z.string(), z.number()])),
  message: z.string(),
})
export type LoraProblem = z.infer<typeof LoraProblem>

export const BlockRanks = z.object({
  /** TE1, TE2, IN00…IN08, MID, OUT00…OUT08, BASE (time/label embedding, out), or OTHER. */
  block: z.string(),
  modules: z.number().int(),
  rank_min: z.number().int().nullable(),
  rank_max: z.number().int().nullable(),
  alpha_min: z.number().nullable(),
  alpha_max: z.number().nullable(),
})
export type BlockRanks = z.infer<typeof BlockRanks>

export const LoraInfo = z.object({
  network: NetworkKind,
  /**
   * Rank (dim): the metadata's ss_network_dim when it is a number and the weights agree, else the
   * largest in the weights (a disagreement is reported in problems).
   */
  rank: z.number().int().nullable(),
  /** Alpha as trained: ss_network_alpha when a number, else the most common .alpha value. */
  alpha: z.number().nullable(),
  /** Rank of the 3×3 conv modules (LoCon), from ss_network_args conv_dim or the weights; null without. */
  conv_rank: z.number().int().nullable(),
  conv_alpha: z.number().nullable(),
  /** Adapted layers. */
  modules: z.number().int(),
  /** The weights themselves: smallest and largest rank, and whether every module has the same rank/alpha. */
  weights: z.object({
    rank_min: z.number().int().nullable(),
    rank_max: z.number().int().nullable(),
    conv_rank_max: z.number().int().nullable(),
    uniform_rank: z.boolean(),
    uniform_alpha: z.boolean(),
    alphas: z.array(z.number()),
    dtype: z.string().nullable(),
  }),
  base: BaseFamily,
  text_encoder_modules: z.number().int(),
  unet_modules: z.number().int(),
  blocks: z.array(BlockRanks),
  tensors: z.number().int(),
  metadata: z.record(z.string(), z.string()),
  problems: z.array(LoraProblem),
})
export type LoraInfo = z.infer<typeof LoraInfo>

function problem(code: string, params: Record<string, string | number>, message: string): LoraProblem {
  return { code, params, message }
}

const PARAM_SUFFIXES = [
  'lora_down.weight',
  'lora_up.weight',
  'lora_mid.weight',
  'alpha',
  'dora_scale',
  'hada_w1_a',
  'hada_w1_b',
  'hada_w2_a',
  'hada_w2_b',
  'hada_t1',
  'hada_t2',
  'lokr_w1',
  'lokr_w1_a',
  'lokr_w1_b',
  'lokr_w2',
  'lokr_w2_a',
  'lokr_w2_b',
  'lokr_t2',
  'on_input',
  'weight',
  'bias',
  'a1.weight',
  'a2.weight',
  'b1.weight',
  'b2.weight',
  'diff',
  'diff_b',
  'oft_blocks',
  'oft_diag',
  'rescale',
] as const

/** Splits `lora_unet_x_y.lora_down.weight` into module and parameter (module names have no dots). */
function splitKey(key: string): { module: string; param: string } | null {
  const dot = key.indexOf('.')
  if (dot <= 0) return null
  const param = key.slice(dot + 1)
  if (!(PARAM_SUFFIXES as readonly string[]).includes(param)) return null
  return { module: key.slice(0, dot), param }
}

interface Module {
  name: string
  params: Map<string, TensorInfo>
}

type Kind = Exclude<NetworkKind, 'locon' | 'dylora' | 'unknown'> | 'lora'

function moduleKind(m: Module): Kind | null {
  const p = m.params
  if (p.has('lora_down.weight') && p.has('lora_up.weight')) return 'lora'
  if (p.has('hada_w1_a') && p.has('hada_w1_b')) return 'loha'
  if ([...p.keys()].some((k) => k.startsWith('lokr_'))) return 'lokr'
  if (p.has('on_input')) return 'ia3'
  if (p.has('a1.weight') && p.has('b1.weight')) return 'glora'
  if (p.has('diff')) return 'full'
  if (p.has('oft_blocks') || p.has('oft_diag')) return 'oft'
  return null
}

/** The rank of one module from its shapes; null when it has none (full-rank LoKr factors, IA3, diff). */
function moduleRank(m: Module, kind: Kind): { rank: number | null; conv: boolean } {
  const p = m.params
  const dim0 = (name: string) => p.get(name)?.shape[0] ?? null
  if (kind === 'lora') {
    const down = p.get('lora_down.weight') as TensorInfo
    const k = down.shape.length === 4 ? (down.shape[2] ?? 1) * (down.shape[3] ?? 1) : 1
    return { rank: down.shape[0] ?? null, conv: k > 1 || p.has('lora_mid.weight') }
  }
  if (kind === 'loha')
    return {
      rank: dim0('hada_w1_b'),
      conv: p.has('hada_t1') || (p.get('hada_w1_b')?.shape.length ?? 2) > 2,
    }
  if (kind === 'lokr') return { rank: dim0('lokr_w2_b') ?? dim0('lokr_w1_b'), conv: p.has('lokr_t2') }
  if (kind === 'glora') return { rank: dim0('a1.weight'), conv: false }
  return { rank: null, conv: false }
}

function blockOf(module: string): string {
  if (/^lora_te1_/.test(module)) return 'TE1'
  if (/^lora_te2_/.test(module)) return 'TE2'
  if (/^lora_te_/.test(module)) return 'TE'
  let m = /^lora_unet_input_blocks_(\d+)_/.exec(module)
  if (m) return `IN${(m[1] as string).padStart(2, '0')}`
  if (/^lora_unet_middle_block_/.test(module)) return 'MID'
  m = /^lora_unet_output_blocks_(\d+)_/.exec(module)
  if (m) return `OUT${(m[1] as string).padStart(2, '0')}`
  if (/^lora_unet_/.test(module)) return 'BASE'
  return 'OTHER'
}

const BLOCK_ORDER = (b: string) => {
  const m = /^(TE1|TE2|TE|IN|MID|OUT|BASE|OTHER)(\d*)$/.exec(b)
  const order = ['TE', 'TE1', 'TE2', 'BASE', 'IN', 'MID', 'OUT', 'OTHER']
  return m ? order.indexOf(m[1] as string) * 100 + Number(m[2] || 0) : 9999
}

/** SDXL (sd-scripts U-Net names, te1/te2), SD 1.x/2.x (lora_te_, Diffusers blocks), or something else. */
function baseFamily(modules: string[]): BaseFamily {
  if (modules.length === 0) return 'unknown'
  const sdxl = modules.some((m) =>
    /^lora_te[12]_|^lora_unet_(input_blocks|middle_block|output_blocks)_/.test(m),
  )
  const sd1 = modules.some((m) => /^lora_te_|^lora_unet_(down_blocks|up_blocks|mid_block)_/.test(m))
  if (sdxl && !sd1) return 'sdxl'
  if (sd1 && !sdxl) return 'sd1'
  if (modules.some((m) => /^lora_unet_(double_blocks|single_blocks|joint_blocks)|^lora_transformer_/.test(m)))
    return 'other'
  return modules.every((m) => m.startsWith('lora_')) ? 'unknown' : 'other'
}

/** A number from metadata ("16", "8.0"); null for "Dynamic", "None", empty or anything else. */
export function metadataNumber(value: string | undefined): number | null {
  if (value === undefined) return null
  const t = value.trim()
  if (!/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(t)) return null
  const n = Number(t)
  return Number.isFinite(n) ? n : null
}

/** ss_network_args is JSON text ({"conv_dim": "8", "algo": "lokr", …}); bad JSON gives {}. */
export function networkArgs(metadata: Record<string, string>): Record<string, string> {
  const raw = metadata.ss_network_args
  if (!raw) return {}
  try {
    const v = JSON.parse(raw) as unknown
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {}
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)]),
    )
  } catch {
    return {}
  }
}

const mostCommon = (values: number[]): number | null => {
  const counts = new Map<number, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  let best: number | null = null
  let n = 0
  for (const [v, c] of counts) if (c > n || (c === n && best !== null && v > best)) [best, n] = [v, c]
  return best
}

/** The `.alpha` tensors whose values the caller should read (tiny scalars): name → dtype and byte range. */
export function alphaTensors(header: SafetensorsHeader): Record<string, TensorInfo> {
  return Object.fromEntries(Object.entries(header.tensors).filter(([k]) => k.endsWith('.alpha')))
}

/** A scalar tensor's value from its bytes (F16, BF16, F32, F64, integers); null for other dtypes. */
export function scalarValue(dtype: string, bytes: Uint8Array): number | null {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const need: Record<string, number> = {
    F16: 2,
    BF16: 2,
    F32: 4,
    F64: 8,
    I32: 4,
    I64: 8,
    I16: 2,
    I8: 1,
    U8: 1,
  }
  const n = need[dtype]
  if (n === undefined || bytes.length < n) return null
  switch (dtype) {
    case 'F16': {
      const bits = v.getUint16(0, true)
      const exp = (bits >> 10) & 0x1f
      const frac = bits & 0x3ff
      const sign = bits & 0x8000 ? -1 : 1
      if (exp === 0) return sign * 2 ** -14 * (frac / 1024)
      if (exp === 31) return frac ? NaN : sign * Infinity
      return sign * 2 ** (exp - 15) * (1 + frac / 1024)
    }
    case 'BF16': {
      const b = new DataView(new ArrayBuffer(4))
      b.setUint32(0, v.getUint16(0, true) << 16, false)
      return b.getFloat32(0, false)
    }
    case 'F32':
      return v.getFloat32(0, true)
    case 'F64':
      return v.getFloat64(0, true)
    case 'I32':
      return v.getInt32(0, true)
    case 'I64':
      return Number(v.getBigInt64(0, true))
    case 'I16':
      return v.getInt16(0, true)
    case 'I8':
      return v.getInt8(0)
    default:
      return v.getUint8(0)
  }
}

/** Rounds float16 noise off alphas (8.0 stored as F16 is exact, 0.1 is not): 6 significant digits. */
const tidy = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)) : x)

/**
 * Everything about a LoRA file the app shows and checks. `alphas` maps `.alpha` tensor names to their
 * values (read by the caller from the byte ranges alphaTensors() gives).
 */
export function inspectLora(header: SafetensorsHeader, alphas: Record<string, number> = {}): LoraInfo {
  const metadata = header.metadata
  const modules = new Map<string, Module>()
  let unmatched = 0
  for (const [key, info] of Object.entries(header.tensors)) {
    const s = splitKey(key)
    if (!s) {
      unmatched++
      continue
    }
    let m = modules.get(s.module)
    if (!m) modules.set(s.module, (m = { name: s.module, params: new Map() }))
    m.params.set(s.param, info)
  }
  const problems: LoraProblem[] = []
  const kinds = new Map<Kind, number>()
  const ranks: number[] = []
  const convRanks: number[] = []
  const alphaValues: number[] = []
  const blocks = new Map<string, { modules: number; ranks: number[]; alphas: number[] }>()
  let adapted = 0
  let te = 0
  let unet = 0
  const dtypes = new Map<string, number>()
  for (const m of modules.values()) {
    const kind = moduleKind(m)
    if (!kind) continue
    adapted++
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
    if (/^lora_te\d?_/.test(m.name)) te++
    else if (m.name.startsWith('lora_unet_')) unet++
    const { rank, conv } = moduleRank(m, kind)
    if (rank !== null) (conv ? convRanks : ranks).push(rank)
    const alpha = alphas[`${m.name}.alpha`]
    if (alpha !== undefined && Number.isFinite(alpha)) alphaValues.push(tidy(alpha))
    const block = blockOf(m.name)
    const b = blocks.get(block) ?? { modules: 0, ranks: [], alphas: [] }
    b.modules++
    if (rank !== null) b.ranks.push(rank)
    if (alpha !== undefined && Number.isFinite(alpha)) b.alphas.push(tidy(alpha))
    blocks.set(block, b)
    for (const [param, t] of m.params)
      if (param !== 'alpha') dtypes.set(t.dtype, (dtypes.get(t.dtype) ?? 0) + 1)
  }
  const args = networkArgs(metadata)
  const module = metadata.ss_network_module ?? ''
  const majority = [...kinds.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null
  let network: NetworkKind = majority ?? 'unknown'
  if (network === 'lora') {
    const algo = (args.algo ?? '').toLowerCase()
    if (module === 'networks.dylora') network = 'dylora'
    else if (module.startsWith('lycoris') && (algo === 'locon' || algo === 'lora' || algo === ''))
      network = 'locon'
    else if (convRanks.length > 0) network = 'locon'
  }
  if (kinds.size > 1)
    problems.push(
      problem(
        'mixed_kinds',
        { kinds: [...kinds.keys()].join(', ') },
        `The file mixes several network kinds (${[...kinds.keys()].join(', ')}).`,
      ),
    )
  if (adapted === 0)
    problems.push(
      problem(
        'no_modules',
        {},
        'No LoRA modules found: the file has no lora_down/lora_up, LoHa or LoKr weights. Choose a LoRA .safetensors file.',
      ),
    )
  if (unmatched > 0 && adapted > 0)
    problems.push(
      problem(
        'unknown_keys',
        { count: unmatched },
        `${unmatched} tensors are not part of any LoRA module and are ignored.`,
      ),
    )
  const base = baseFamily(
    [...modules.keys()].filter((n) => modules.get(n) && moduleKind(modules.get(n) as Module)),
  )
  if (adapted > 0 && base !== 'sdxl')
    problems.push(
      problem(
        'not_sdxl',
        { base },
        base === 'sd1'
          ? 'This LoRA is for Stable Diffusion 1.x/2.x (lora_te_ and Diffusers block names), not SDXL.'
          : 'The module names are not SDXL ones (lora_unet_input_blocks_…, lora_te1_/lora_te2_): this LoRA is not for SDXL or not in the kohya-ss format.',
      ),
    )
  const rankMax = ranks.length ? Math.max(...ranks) : null
  const rankMin = ranks.length ? Math.min(...ranks) : null
  const convMax = convRanks.length ? Math.max(...convRanks) : null
  const uniformRank = new Set(ranks).size <= 1 && new Set(convRanks).size <= 1
  const uniformAlpha = new Set(alphaValues).size <= 1
  const metaDim = metadataNumber(metadata.ss_network_dim)
  const metaAlpha = metadataNumber(metadata.ss_network_alpha)
  // The metadata says how it was trained; where the weights all have one other rank (sdxl_merge_lora
  // --concat keeps the first file's dim in the metadata), the weights are what the file is.
  const weightsDisagree = metaDim !== null && rankMax !== null && uniformRank && metaDim !== rankMax
  const rank = metaDim !== null && Number.isInteger(metaDim) && !weightsDisagree ? metaDim : rankMax
  const linearAlpha = mostCommon(
    [...modules.values()]
      .filter((m) => {
        const k = moduleKind(m)
        return k !== null && !moduleRank(m, k).conv
      })
      .map((m) => alphas[`${m.name}.alpha`])
      .filter((a): a is number => a !== undefined && Number.isFinite(a))
      .map(tidy),
  )
  const alpha = metaAlpha ?? linearAlpha ?? mostCommon(alphaValues)
  if (weightsDisagree)
    problems.push(
      problem(
        'metadata_rank_mismatch',
        { metadata: metaDim, weights: rankMax },
        `The metadata says rank ${metaDim} but the weights have rank ${rankMax}.`,
      ),
    )
  const convArg = metadataNumber(args.conv_dim)
  const convAlphaArg = metadataNumber(args.conv_alpha)
  const convAlphaWeights = mostCommon(
    [...modules.values()]
      .filter((m) => {
        const k = moduleKind(m)
        return k !== null && moduleRank(m, k).conv
      })
      .map((m) => alphas[`${m.name}.alpha`])
      .filter((a): a is number => a !== undefined && Number.isFinite(a))
      .map(tidy),
  )
  return {
    network,
    rank,
    alpha,
    conv_rank: convRanks.length ? (convArg !== null && Number.isInteger(convArg) ? convArg : convMax) : null,
    conv_alpha: convRanks.length ? (convAlphaArg ?? convAlphaWeights) : null,
    modules: adapted,
    weights: {
      rank_min: rankMin,
      rank_max: rankMax,
      conv_rank_max: convMax,
      uniform_rank: uniformRank,
      uniform_alpha: uniformAlpha,
      alphas: [...new Set(alphaValues)].sort((a, b) => a - b).slice(0, 64),
      dtype: [...dtypes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null,
    },
    base,
    text_encoder_modules: te,
    unet_modules: unet,
    blocks: [...blocks.entries()]
      .sort((a, b) => BLOCK_ORDER(a[0]) - BLOCK_ORDER(b[0]))
      .map(([block, b]) => ({
        block,
        modules: b.modules,
        rank_min: b.ranks.length ? Math.min(...b.ranks) : null,
        rank_max: b.ranks.length ? Math.max(...b.ranks) : null,
        alpha_min: b.alphas.length ? Math.min(...b.alphas) : null,
        alpha_max: b.alphas.length ? Math.max(...b.alphas) : null,
      })),
    tensors: Object.keys(header.tensors).length,
    metadata,
    problems,
  }
}
