import { isNetworkType, TrainingConfig } from '../../../core/config/schema'
import { estimateSteps } from '../../../core/config/steps'
import type { DatasetSummary, Issue, ValidationResult } from '../../../core/api/domains/configs'
import { label, msg } from '../../../core/sdscripts/messages'
import {
  hasErrors,
  schemaIssues,
  validateConfig,
  type ValidationContext,
} from '../../../core/sdscripts/validate'
import { inspectImageFolder } from './dataset'
import { inspectModel } from './model'
import { checkOutputFolder, neededBytes } from './output'

const PLACEHOLDER = /^<<.*>>$/

export const STEPS_NOTE =
  'Steps are estimated as sd-scripts counts them with one bucket: images × repeats (regularization images matched to the training images) ÷ batch size, ÷ gradient accumulation. Aspect buckets can add a few partly filled batches per epoch.'

export async function inspectDataset(config: TrainingConfig): Promise<DatasetSummary> {
  const subsets = await Promise.all(
    config.dataset.subsets.map(async (s) => {
      const f = await inspectImageFolder(s.image_dir, s.caption_extension)
      return {
        ...f,
        num_repeats: s.num_repeats,
        is_reg: s.is_reg,
        images_with_repeats: f.images * s.num_repeats,
      }
    }),
  )
  const steps = estimateSteps({
    subsets: subsets.map((s) => ({ images: s.images, num_repeats: s.num_repeats, is_reg: s.is_reg })),
    batch_size: config.training.batch_size,
    gradient_accumulation_steps: config.training.gradient_accumulation_steps,
    num_processes: config.launch.num_processes,
    max_train_epochs: config.training.max_train_epochs,
    max_train_steps: config.training.max_train_steps,
  })
  return { subsets, steps, note: STEPS_NOTE }
}

/** Rules plus the file-system checks: model file, dataset folders, output folder. */
export async function validateWithFiles(
  input: unknown,
  options: { checkFiles: boolean } & ValidationContext,
): Promise<ValidationResult> {
  const parsed = TrainingConfig.safeParse(input)
  if (!parsed.success) {
    return {
      valid: false,
      issues: schemaIssues(parsed.error),
      config: null,
      model: null,
      dataset: null,
      output: null,
    }
  }
  const config = parsed.data
  const { checkFiles: _checkFiles, ...context } = options
  const issues: Issue[] = validateConfig(config, context)
  let model = null
  let dataset = null
  let output = null
  if (options.checkFiles) {
    if (config.base_model && !PLACEHOLDER.test(config.base_model)) {
      model = await inspectModel(config.base_model)
      if (model.problem)
        issues.push({
          rule: 'model.file',
          severity: 'error',
          field: 'base_model',
          message: model.problem,
          ...(model.problem_code ? { code: model.problem_code, params: model.problem_params ?? {} } : {}),
        })
    }
    const real = config.dataset.subsets.some((s) => s.image_dir && !PLACEHOLDER.test(s.image_dir))
    if (real) {
      dataset = await inspectDataset(config)
      dataset.subsets.forEach((s, i) => {
        if (s.problem)
          issues.push({
            rule: 'dataset.folder',
            severity: 'error',
            field: `dataset.subsets.${i}.image_dir`,
            message: s.problem,
            ...(s.problem_code ? { code: s.problem_code, params: { path: s.path } } : {}),
          })
        else if (s.captioned < s.images) {
          const sub = config.dataset.subsets[i]
          const params = {
            missing: s.images - s.captioned,
            total: s.images,
            path: s.path,
            ext: sub?.caption_extension ?? '',
            examples: s.missingCaptionExamples.join(', '),
            tokens: sub?.class_tokens ?? '',
          }
          issues.push({
            rule: 'dataset.captions',
            severity: sub?.class_tokens ? 'info' : 'warning',
            field: `dataset.subsets.${i}.caption_extension`,
            ...msg(sub?.class_tokens ? 'captions_missing_tokens' : 'captions_missing_empty', params),
          })
        }
        const sub = config.dataset.subsets[i]
        if (s.fromName && sub && s.fromName.num_repeats !== sub.num_repeats)
          issues.push({
            rule: 'dataset.repeats_name',
            severity: 'info',
            field: `dataset.subsets.${i}.num_repeats`,
            ...msg('repeats_name', { named: s.fromName.num_repeats, set: sub.num_repeats }),
            fix: {
              ...label('use_repeats', { value: s.fromName.num_repeats }),
              set: [{ path: `dataset.subsets.${i}.num_repeats`, value: s.fromName.num_repeats }],
            },
          })
      })
    }
    if (config.saving.output_dir && !PLACEHOLDER.test(config.saving.output_dir)) {
      output = await checkOutputFolder(config.saving.output_dir, neededBytes(!isNetworkType(config.type)))
      if (output.problem)
        issues.push({
          rule: 'output.folder',
          severity: 'error',
          field: 'saving.output_dir',
          message: output.problem,
          ...(output.problem_code ? { code: output.problem_code, params: output.problem_params ?? {} } : {}),
        })
    }
  }
  return { valid: !hasErrors(issues), issues, config, model, dataset, output }
}
