import { numberRule, schemaAt, unwrap } from '../../../core/config/leaves'
import { TrainingConfig, type TrainingConfig as Config } from '../../../core/config/schema'
import { setPath } from '../../../core/config/set-path'
import type { TrainDraft } from '../../../core/config/draft'
import { formatNumber, interpretNumber, type InputProblem } from './number-text'

/*
 * The form's state and every change to it, as pure functions (tested without a browser).
 *
 * The config only ever holds values its schema accepts: what the user types goes through the field's
 * own schema first, and text that does not (yet) read as a valid value stays in `texts`, shown in the
 * field with a message under it. So no parse anywhere can throw on the user's input, and nothing
 * typed is lost (texts are saved with the draft).
 */

export interface FormState {
  config: Config
  /** What the user typed, by full path ("training.batch_size", "dataset.subsets.0.num_repeats"). */
  texts: Record<string, string>
  /** A field was changed (or Start pressed): problems show in red from then on. */
  touched: boolean
  presetId: string | null
}

export type FieldProblem = InputProblem | { code: 'invalid' }

export function getPath(root: unknown, path: string): unknown {
  let cur: unknown = root
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b)
}

export function initialForm(config: Config): FormState {
  return { config, texts: {}, touched: false, presetId: null }
}

/** How a typed text reads for the field at `path`: a value to commit, or the problem. */
export function readText(
  path: string,
  text: string,
  decimalComma: boolean,
): { ok: true; value: unknown } | { ok: false; problem: FieldProblem } {
  const rule = numberRule(path)
  if (rule) return interpretNumber(text, rule, decimalComma)
  const schema = schemaAt(path)
  if (!schema) return { ok: false, problem: { code: 'invalid' } }
  const value = text === '' && unwrap(schema).optional ? undefined : text
  return schema.safeParse(value).success ? { ok: true, value } : { ok: false, problem: { code: 'invalid' } }
}

/** The user typed into a number or text field. */
export function typeText(state: FormState, path: string, text: string, decimalComma: boolean): FormState {
  const r = readText(path, text, decimalComma)
  const texts = { ...state.texts, [path]: text }
  const config = r.ok ? (setPath(state.config, path, r.value) as Config) : state.config
  return { ...state, config, texts, touched: true }
}

/**
 * Typed text for a value the text stands for (a list edited one item per line): the value is set
 * as given, the text kept so the field shows exactly what was typed.
 */
export function typeAs(state: FormState, path: string, text: string, value: unknown): FormState {
  return {
    ...state,
    config: setPath(state.config, path, value) as Config,
    texts: { ...state.texts, [path]: text },
    touched: true,
  }
}

/** The user set a value directly (switch, select, a list editor, a picked path). */
export function setValue(state: FormState, path: string, value: unknown): FormState {
  const texts = { ...state.texts }
  for (const k of Object.keys(texts)) if (k === path || k.startsWith(`${path}.`)) delete texts[k]
  return { ...state, config: setPath(state.config, path, value) as Config, texts, touched: true }
}

/**
 * The config changed from outside the fields (a fix, "make it fit", a folder picked from a listing):
 * typed text is dropped where the value under it changed, kept elsewhere.
 */
export function changeConfig(state: FormState, next: Config, touched = true): FormState {
  const texts: Record<string, string> = {}
  for (const [k, v] of Object.entries(state.texts))
    if (same(getPath(state.config, k), getPath(next, k))) texts[k] = v
  return { ...state, config: next, texts, touched: state.touched || touched }
}

/** A new config altogether (a preset, an import, a restored draft): nothing typed carries over. */
export function replaceConfig(state: FormState, config: Config, presetId: string | null): FormState {
  return { config, texts: {}, touched: state.touched, presetId }
}

/**
 * A preset the page suggests for the GPU (not one the user chose): it arrives after the GPU reading and a
 * preset read, so the user may have started filling in the form meanwhile; then it is dropped rather than
 * overwrite their work.
 */
export function suggestPreset(state: FormState, config: Config, presetId: string): FormState {
  return state.touched ? state : replaceConfig(state, config, presetId)
}

/** Removes item `index` of a list (subsets, prompts); texts of later items move up with them. */
export function removeItem(state: FormState, listPath: string, index: number): FormState {
  const list = getPath(state.config, listPath)
  if (!Array.isArray(list)) return state
  const texts: Record<string, string> = {}
  const prefix = `${listPath}.`
  for (const [k, v] of Object.entries(state.texts)) {
    if (!k.startsWith(prefix)) {
      texts[k] = v
      continue
    }
    const [head, ...rest] = k.slice(prefix.length).split('.')
    const i = Number(head)
    if (i === index) continue
    texts[`${prefix}${i > index ? i - 1 : i}${rest.length ? `.${rest.join('.')}` : ''}`] = v
  }
  const config = setPath(
    state.config,
    listPath,
    list.filter((_, j) => j !== index),
  ) as Config
  return { ...state, config, texts, touched: true }
}

/**
 * What a field shows and the problem under it. The typed text wins while it is what the user is
 * working on: it does not read as a value, or it reads as exactly the value the config holds. When the
 * value changed under it (a fix, a preset), the value is shown.
 */
export function fieldView(
  state: FormState,
  path: string,
  decimalComma: boolean,
): { text: string; problem: FieldProblem | null } {
  const value = getPath(state.config, path)
  const typed = state.texts[path]
  // A list edited as text (typeAs) shows its text while it still stands for the list.
  if (Array.isArray(value)) {
    const joined = value.map(String).join('\n')
    return {
      text: typed !== undefined && splitLines(typed).join('\n') === joined ? typed : joined,
      problem: null,
    }
  }
  if (typed !== undefined) {
    const r = readText(path, typed, decimalComma)
    if (!r.ok) return { text: typed, problem: r.problem }
    if (same(r.value, value)) return { text: typed, problem: null }
  }
  if (typeof value === 'number') return { text: formatNumber(value, decimalComma), problem: null }
  return { text: typeof value === 'string' ? value : '', problem: null }
}

/** One item per line (or separated by spaces), empty items dropped. */
export function splitLines(text: string): string[] {
  return text.split(/\s+/).filter(Boolean)
}

/** Paths whose typed text does not read as a valid value (they block nothing, but show a message). */
export function pendingProblems(state: FormState, decimalComma: boolean): string[] {
  return Object.keys(state.texts).filter((p) => fieldView(state, p, decimalComma).problem !== null)
}

export function toDraft(state: FormState): TrainDraft {
  return {
    version: 1,
    config: state.config,
    texts: state.texts,
    touched: state.touched,
    preset_id: state.presetId,
  }
}

/** A config that passes the schema, for the places that need one (a final guard; the form keeps it so). */
export function safeConfig(config: unknown): Config | null {
  const r = TrainingConfig.safeParse(config)
  return r.success ? r.data : null
}
