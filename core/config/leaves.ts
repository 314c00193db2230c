import { z } from 'zod'
import { SamplePrompt, Subset, TrainingConfig } from './schema'

/**
 * What the config schema says about one field, read from the zod schema itself: the form takes its
 * ranges and choices from here, so a field's limits are written once (in schema.ts) and the form,
 * the validator and the saved files can never disagree about them.
 */

/** A field's schema without the wrappers that only add a default or allow it to be missing. */
export function unwrap(schema: z.ZodType): { inner: z.ZodType; optional: boolean; hasDefault: boolean } {
  let s: z.ZodType = schema
  let optional = false
  let hasDefault = false
  for (;;) {
    const def = s.def as { type: string; innerType?: z.ZodType }
    if (def.type === 'optional' || def.type === 'nullable') optional = true
    else if (def.type === 'default' || def.type === 'prefault') hasDefault = true
    else return { inner: s, optional, hasDefault }
    s = def.innerType as z.ZodType
  }
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | null {
  const { inner } = unwrap(schema)
  return inner instanceof z.ZodObject ? (inner.shape as Record<string, z.ZodType>) : null
}

/**
 * The schema of the field at a dotted path ("training.batch_size"). Array items are addressed by
 * index or by `*` ("dataset.subsets.0.keep_tokens", "sampling.prompts.*.width").
 */
export function schemaAt(path: string, root: z.ZodType = TrainingConfig): z.ZodType | null {
  let s: z.ZodType | null = root
  for (const key of path.split('.')) {
    if (!s) return null
    const { inner } = unwrap(s)
    if (inner instanceof z.ZodArray && (key === '*' || /^\d+$/.test(key))) s = inner.element as z.ZodType
    else if (inner instanceof z.ZodRecord) s = inner.valueType as z.ZodType
    else s = objectShape(inner)?.[key] ?? null
  }
  return s
}

export interface NumberRule {
  integer: boolean
  min: number | null
  minInclusive: boolean
  max: number | null
  maxInclusive: boolean
  /** Empty input means "not set" (the field is optional). */
  optional: boolean
  /** Allowed values when the schema is a union of literals (max_token_length: 75, 150, 225). */
  choices: number[] | null
}

interface CheckDef {
  check?: string
  value?: number
  inclusive?: boolean
  format?: string
}

/** Range, integer-ness and optionality of a number field; null when the path is not a number. */
export function numberRule(path: string, root: z.ZodType = TrainingConfig): NumberRule | null {
  const s = schemaAt(path, root)
  if (!s) return null
  const { inner, optional } = unwrap(s)
  if (inner instanceof z.ZodUnion) {
    const values = (inner.options as z.ZodType[]).map((o) => (o instanceof z.ZodLiteral ? o.value : null))
    if (!values.every((v): v is number => typeof v === 'number')) return null
    return {
      integer: values.every(Number.isInteger),
      min: Math.min(...values),
      minInclusive: true,
      max: Math.max(...values),
      maxInclusive: true,
      optional,
      choices: values,
    }
  }
  if (!(inner instanceof z.ZodNumber)) return null
  const rule: NumberRule = {
    integer: false,
    min: null,
    minInclusive: true,
    max: null,
    maxInclusive: true,
    optional,
    choices: null,
  }
  for (const c of (inner.def.checks ?? []) as Array<{ _zod: { def: CheckDef } }>) {
    const d = c._zod.def
    if (d.check === 'number_format' && (d.format === 'safeint' || d.format === 'int32')) rule.integer = true
    else if (d.check === 'greater_than' && d.value !== undefined) {
      rule.min = d.value
      rule.minInclusive = d.inclusive ?? true
    } else if (d.check === 'less_than' && d.value !== undefined) {
      rule.max = d.value
      rule.maxInclusive = d.inclusive ?? true
    }
  }
  return rule
}

/** Allowed values of an enum field, or null. */
export function enumOptions(path: string, root: z.ZodType = TrainingConfig): string[] | null {
  const s = schemaAt(path, root)
  if (!s) return null
  const { inner } = unwrap(s)
  return inner instanceof z.ZodEnum ? (inner.options as string[]) : null
}

export function isOptional(path: string, root: z.ZodType = TrainingConfig): boolean {
  const s = schemaAt(path, root)
  return s ? unwrap(s).optional : false
}

/**
 * Every settable leaf of the config, as dotted paths. Arrays of objects (subsets, prompts) list their
 * item fields under `*`; records and arrays of scalars are one leaf each.
 */
export function leafPaths(root: z.ZodType = TrainingConfig, prefix = ''): string[] {
  const { inner } = unwrap(root)
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([k, v]) =>
      leafPaths(v, prefix ? `${prefix}.${k}` : k),
    )
  }
  if (inner instanceof z.ZodArray) {
    const el = unwrap(inner.element as z.ZodType).inner
    if (el instanceof z.ZodObject) return leafPaths(el, `${prefix}.*`)
  }
  return [prefix]
}

/** The item schemas of the two lists of objects, for editors of one item. */
export const ITEM_SCHEMAS = { subset: Subset, prompt: SamplePrompt } as const
