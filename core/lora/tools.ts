import { z } from 'zod'
import type { ModelClass } from '../safetensors/header'
import type { LoraInfo, LoraProblem } from './inspect'

/*
 * The LoRA tools, each one of sd-scripts' own scripts (v0.10.1, networks/):
 *   resize   resize_lora.py       --model --save_to --new_rank [--new_conv_rank] [--dynamic_method --dynamic_param]
 *   merge    sdxl_merge_lora.py   --models … --ratios … --save_to [--concat] [--sd_model]  (same ranks, or concat, or into a checkpoint)
 *            svd_merge_lora.py    --models … --ratios … --save_to --new_rank [--new_conv_rank]  (any ranks, re-decomposed)
 *   extract  extract_lora_from_models.py --sdxl --model_org --model_tuned --save_to --dim [--conv_dim]
 * The inputs are checked here, from the files' safetensors headers, before a script starts: a script
 * that fails after loading two 7 GB checkpoints wastes minutes; a message now names the fix.
 */

const File = z.string().trim().min(1, 'Choose a file.').max(4096, 'The path is too long.')
const Precision = z.enum(['float', 'fp16', 'bf16'])
const Device = z.enum(['cpu', 'cuda'])
const Rank = z.number().int('The rank is a whole number.').min(1, 'The rank is at least 1.').max(1024)
export const DynamicMethod = z.enum(['sv_ratio', 'sv_fro', 'sv_cumulative'])
export type DynamicMethod = z.infer<typeof DynamicMethod>

export const ResizeInput = z
  .object({
    tool: z.literal('resize'),
    model: File,
    save_to: File,
    /** The new rank; with a dynamic method, the most any module keeps. */
    new_rank: Rank,
    /** 3×3 conv modules (LoCon); default: new_rank. */
    new_conv_rank: Rank.optional(),
    /** Rank per module from its singular values: sv_ratio (largest/smallest kept > param), sv_fro / sv_cumulative (share kept). */
    dynamic_method: DynamicMethod.optional(),
    dynamic_param: z.number().finite().optional(),
    save_precision: Precision.default('fp16'),
    device: Device.default('cpu'),
    overwrite: z.boolean().default(false),
  })
  .strict()

export const MergeMode = z.enum(['sum', 'concat', 'svd', 'checkpoint'])
export type MergeMode = z.infer<typeof MergeMode>

export const MergeInput = z
  .object({
    tool: z.literal('merge'),
    /**
     * sum: add the weights (every file the same rank per module) · concat: stack them (ranks add up)
     * · svd: re-decompose the summed change to new_rank (any ranks) · checkpoint: bake into a model.
     */
    mode: MergeMode,
    models: z
      .array(z.object({ file: File, ratio: z.number().finite().min(-10).max(10).default(1) }).strict())
      .min(1, 'Add a LoRA file to merge.')
      .max(16, 'Merge at most 16 files at once.'),
    save_to: File,
    /** svd mode. */
    new_rank: Rank.optional(),
    new_conv_rank: Rank.optional(),
    /** checkpoint mode: the SDXL model the LoRAs are merged into. */
    sd_model: File.optional(),
    save_precision: Precision.default('fp16'),
    device: Device.default('cpu'),
    overwrite: z.boolean().default(false),
  })
  .strict()

export const ExtractInput = z
  .object({
    tool: z.literal('extract'),
    /** The base model the fine-tune started from. */
    model_org: File,
    model_tuned: File,
    save_to: File,
    dim: Rank,
    conv_dim: Rank.optional(),
    clamp_quantile: z.number().gt(0).max(1).default(0.99),
    min_diff: z.number().min(0).max(1).default(0.01),
    save_precision: Precision.default('fp16'),
    device: Device.default('cpu'),
    overwrite: z.boolean().default(false),
  })
  .strict()

export const ToolInput = z.discriminatedUnion('tool', [ResizeInput, MergeInput, ExtractInput])
export type ToolInput = z.infer<typeof ToolInput>
export type ToolInputRaw = z.input<typeof ToolInput>
export type ToolName = ToolInput['tool']

/** What the service found about each file the input names (headers read, files looked at). */
export interface FileFacts {
  exists: boolean
  isFile: boolean
  /** Header problem in words, when it is not a readable safetensors file. */
  headerProblem: string | null
  lora: LoraInfo | null
  model: ModelClass | null
}

export interface OutputFacts {
  exists: boolean
  /** The folder it goes into exists and is a folder. */
  dirExists: boolean
}

export interface ToolPlan {
  /** Path of the script inside sd-scripts. */
  script: string
  /** Arguments after the script. */
  args: string[]
  /** Files the script reads (checked), and the file it writes. */
  inputs: string[]
  output: string
}

const p = (code: string, params: Record<string, string | number>, message: string): LoraProblem => ({
  code,
  params,
  message,
})

export function toolScript(tool: ToolName, mode?: MergeMode): string {
  if (tool === 'resize') return 'networks/resize_lora.py'
  if (tool === 'extract') return 'networks/extract_lora_from_models.py'
  return mode === 'svd' ? 'networks/svd_merge_lora.py' : 'networks/sdxl_merge_lora.py'
}

const num = (n: number) => String(n)

/** The script and its arguments (argument array, no shell). */
export function planTool(input: ToolInput): ToolPlan {
  if (input.tool === 'resize') {
    const args = ['--model', input.model, '--save_to', input.save_to, '--new_rank', num(input.new_rank)]
    if (input.new_conv_rank !== undefined) args.push('--new_conv_rank', num(input.new_conv_rank))
    if (input.dynamic_method)
      args.push('--dynamic_method', input.dynamic_method, '--dynamic_param', num(input.dynamic_param ?? 0))
    args.push('--save_precision', input.save_precision, '--device', input.device, '--verbose')
    return { script: toolScript('resize'), args, inputs: [input.model], output: input.save_to }
  }
  if (input.tool === 'merge') {
    const files = input.models.map((m) => m.file)
    const args = ['--models', ...files, '--ratios', ...input.models.map((m) => num(m.ratio))]
    args.push('--save_to', input.save_to, '--precision', 'float', '--save_precision', input.save_precision)
    if (input.mode === 'svd') {
      args.push('--new_rank', num(input.new_rank ?? 4))
      if (input.new_conv_rank !== undefined) args.push('--new_conv_rank', num(input.new_conv_rank))
      args.push('--device', input.device)
    } else if (input.mode === 'concat') args.push('--concat')
    else if (input.mode === 'checkpoint') args.push('--sd_model', input.sd_model ?? '')
    return {
      script: toolScript('merge', input.mode),
      args,
      inputs: input.mode === 'checkpoint' && input.sd_model ? [input.sd_model, ...files] : files,
      output: input.save_to,
    }
  }
  const args = [
    '--sdxl',
    '--model_org',
    input.model_org,
    '--model_tuned',
    input.model_tuned,
    '--save_to',
    input.save_to,
    '--dim',
    num(input.dim),
  ]
  if (input.conv_dim !== undefined) args.push('--conv_dim', num(input.conv_dim))
  args.push(
    '--device',
    input.device,
    '--save_precision',
    input.save_precision,
    '--clamp_quantile',
    num(input.clamp_quantile),
    '--min_diff',
    num(input.min_diff),
  )
  return {
    script: toolScript('extract'),
    args,
    inputs: [input.model_org, input.model_tuned],
    output: input.save_to,
  }
}

/** Which input a problem is about: a code the renderer translates, and its English words. */
export type InputLabel = 'lora' | 'merge_input' | 'sd_model' | 'model_org' | 'model_tuned'
const LABELS: Record<InputLabel, (index: number) => string> = {
  lora: () => 'The LoRA to resize',
  merge_input: (i) => `LoRA ${i}`,
  sd_model: () => 'The SDXL model',
  model_org: () => 'The base model',
  model_tuned: () => 'The fine-tuned model',
}

interface Labelled {
  key: InputLabel
  index: number
}

function fileProblems(which: Labelled, file: string, f: FileFacts | undefined): LoraProblem[] {
  const label = LABELS[which.key](which.index)
  const params = { label: which.key, index: which.index, file }
  if (!f || !f.exists) return [p('file_missing', params, `${label} does not exist: ${file}. Check the path.`)]
  if (!f.isFile) return [p('not_a_file', params, `${label} is a folder, not a file: ${file}.`)]
  if (f.headerProblem)
    return [
      p(
        'not_safetensors',
        params,
        `${label} is not a usable .safetensors file (${file}): ${f.headerProblem}`,
      ),
    ]
  return []
}

/** The LoRA must be an SDXL LoRA/LoCon in sd-scripts' format (the scripts know only lora_down/lora_up). */
function loraProblems(which: Labelled, file: string, f: FileFacts | undefined): LoraProblem[] {
  const base = fileProblems(which, file, f)
  const label = LABELS[which.key](which.index)
  const params = { label: which.key, index: which.index, file }
  if (base.length || !f) return base
  const info = f.lora
  if (!info || info.modules === 0)
    return [
      p(
        'not_lora',
        params,
        `${label} is not a LoRA file (no lora_down/lora_up weights): ${file}. Choose a LoRA .safetensors file.`,
      ),
    ]
  if (info.base !== 'sdxl')
    return [
      p(
        'not_sdxl_lora',
        params,
        `${label} is not an SDXL LoRA in sd-scripts' format (module names lora_unet_input_blocks_…, lora_te1_…): ${file}.`,
      ),
    ]
  if (info.network !== 'lora' && info.network !== 'locon')
    return [
      p(
        'unsupported_network',
        { ...params, network: info.network },
        `${label} is a ${info.network} network; sd-scripts' resize and merge scripts handle LoRA and LoCon only: ${file}.`,
      ),
    ]
  return []
}

function modelProblems(which: Labelled, file: string, f: FileFacts | undefined): LoraProblem[] {
  const base = fileProblems(which, file, f)
  const label = LABELS[which.key](which.index)
  const params = { label: which.key, index: which.index, file }
  if (base.length || !f) return base
  if (f.model?.kind !== 'sdxl_base')
    return [
      p(
        'not_sdxl_model',
        { ...params, kind: f.model?.kind ?? 'unknown' },
        `${label} is not an SDXL base checkpoint: ${file}. ${f.model?.description ?? ''}`.trim(),
      ),
    ]
  return []
}

function outputProblems(input: ToolInput, out: OutputFacts, inputs: string[]): LoraProblem[] {
  const file = input.save_to
  const out_: LoraProblem[] = []
  if (!/\.safetensors$/i.test(file))
    out_.push(
      p(
        'output_extension',
        { file },
        `The output file must end in .safetensors: ${file}. Add the extension or choose another name.`,
      ),
    )
  if (inputs.some((i) => i === file))
    out_.push(
      p(
        'output_is_input',
        { file },
        `The output would overwrite an input file: ${file}. Choose another output name.`,
      ),
    )
  if (!out.dirExists)
    out_.push(
      p(
        'output_dir_missing',
        { file },
        `The folder for the output does not exist: ${file}. Create it or choose another.`,
      ),
    )
  if (out.exists && !input.overwrite)
    out_.push(
      p('output_exists', { file }, `${file} already exists. Choose another name, or allow overwriting.`),
    )
  return out_
}

/**
 * Every reason the tool would fail or do nothing useful, from the inputs and what the service found
 * about the files. Empty: the script can start.
 */
export function checkTool(
  input: ToolInput,
  files: Record<string, FileFacts>,
  output: OutputFacts,
): LoraProblem[] {
  const plan = planTool(input)
  const problems: LoraProblem[] = []
  if (input.tool === 'resize') {
    problems.push(...loraProblems({ key: 'lora', index: 1 }, input.model, files[input.model]))
    const info = files[input.model]?.lora
    if (input.dynamic_method) {
      const v = input.dynamic_param
      if (v === undefined || v === 0)
        problems.push(
          p(
            'dynamic_param_missing',
            { method: input.dynamic_method },
            `${input.dynamic_method} needs a target value.`,
          ),
        )
      else if (input.dynamic_method === 'sv_ratio' && !(v > 1))
        problems.push(
          p(
            'dynamic_param_range',
            { method: input.dynamic_method, value: v, range: '> 1' },
            `sv_ratio keeps singular values within 1/${v} of the largest: give a value above 1 (e.g. 8).`,
          ),
        )
      else if (input.dynamic_method !== 'sv_ratio' && !(v > 0 && v <= 1))
        problems.push(
          p(
            'dynamic_param_range',
            { method: input.dynamic_method, value: v, range: '0 – 1' },
            `${input.dynamic_method} keeps this share of the weights: give a value above 0 and at most 1 (e.g. 0.9).`,
          ),
        )
    } else if (input.dynamic_param !== undefined)
      problems.push(
        p(
          'dynamic_param_without_method',
          {},
          'A target value was given without a dynamic method; choose one or clear the value.',
        ),
      )
    if (info && info.modules > 0 && !input.dynamic_method) {
      const current = info.weights.rank_max
      if (current !== null && input.new_rank >= current)
        problems.push(
          p(
            'rank_not_lower',
            { rank: input.new_rank, current },
            `The new rank ${input.new_rank} is not below the file's rank ${current}: resizing would not make it smaller. Choose a rank below ${current}.`,
          ),
        )
    }
  } else if (input.tool === 'merge') {
    input.models.forEach((m, i) =>
      problems.push(...loraProblems({ key: 'merge_input', index: i + 1 }, m.file, files[m.file])),
    )
    const seen = new Set<string>()
    for (const m of input.models) {
      if (seen.has(m.file))
        problems.push(
          p('duplicate_input', { file: m.file }, `${m.file} is listed twice; change its ratio instead.`),
        )
      seen.add(m.file)
    }
    if (input.mode !== 'checkpoint' && input.models.length < 2)
      problems.push(p('merge_needs_two', {}, 'Add at least two LoRA files to merge.'))
    if (input.mode === 'svd' && input.new_rank === undefined)
      problems.push(p('svd_needs_rank', {}, 'The SVD merge needs the rank of the result.'))
    if (input.mode === 'checkpoint') {
      if (!input.sd_model)
        problems.push(p('checkpoint_needs_model', {}, 'Choose the SDXL model to merge the LoRAs into.'))
      else
        problems.push(...modelProblems({ key: 'sd_model', index: 1 }, input.sd_model, files[input.sd_model]))
    }
    if (input.mode === 'sum') {
      const ranks = input.models
        .map((m) => files[m.file]?.lora)
        .filter((l): l is LoraInfo => !!l && l.modules > 0)
      const shapes = ranks.map(
        (l) => `${l.weights.rank_min}-${l.weights.rank_max}/${l.weights.conv_rank_max}`,
      )
      if (ranks.length > 1 && (new Set(shapes).size > 1 || ranks.some((l) => !l.weights.uniform_rank)))
        problems.push(
          p(
            'ranks_differ',
            { ranks: ranks.map((l) => l.weights.rank_max ?? '?').join(', ') },
            `The files have different ranks (${ranks.map((l) => l.weights.rank_max ?? '?').join(', ')}); adding them needs equal ranks. Use "concat" or "SVD" instead.`,
          ),
        )
    }
  } else {
    problems.push(...modelProblems({ key: 'model_org', index: 1 }, input.model_org, files[input.model_org]))
    problems.push(
      ...modelProblems({ key: 'model_tuned', index: 1 }, input.model_tuned, files[input.model_tuned]),
    )
    if (input.model_org === input.model_tuned)
      problems.push(
        p(
          'same_models',
          {},
          'The base and the fine-tuned model are the same file; there is nothing to extract.',
        ),
      )
  }
  problems.push(...outputProblems(input, output, plan.inputs))
  return problems
}
