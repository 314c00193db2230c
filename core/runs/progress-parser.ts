import { AnsiStripper } from './ansi'
import type { FailureEvent, ProgressEvent, RunEvent, StartupEvent } from './events'
import { LineSplitter, type Segment } from './lines'
import { parseTqdm, type TqdmBar } from './tqdm'
import { Utf8StreamDecoder } from './utf8'

export interface ParserOptions {
  /** Emit `text` events for lines nothing recognised (default true). The runner turns this off: the raw log has them. */
  keepText?: boolean
}

// Rich's log columns around a message: "[time] LEVEL    message      file.py:123". The time column is
// blank when unchanged, and --console_log_simple prints the bare message.
const RICH_PREFIX =
  /^(?:\[?\d{2,4}[-/]\d{1,2}[-/]\d{1,4}[ T]\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\]?\s+|\s*)(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+/
const RICH_SUFFIX = /\s{2,}[\w.-]+\.py:\d+\s*$/

const EPOCH = /^epoch (\d+)\/(\d+)$/
const SUMMARY_FIELD =
  /^(num train images \* repeats|num validation images \* repeats|num reg images|num examples|num batches per epoch|num epochs|batch size per device|gradient accumulation steps|total optimization steps)\b[^:=]*[:=]\s*(\d[\d,\s]*)$/
const TRACEBACK = /Traceback \(most recent call last\)/
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))(?::\s*(.*))?$/
const OOM = /CUDA out of memory|OutOfMemoryError|CUDA error: out of memory/
const MISSING_MODULE = /No module named '([^']+)'/
const NO_DATA = /^No data found\b/
const NAN = /NaN detected in latents|NaN found in latents/

/** The last path component, for Windows and POSIX separators alike (logs mix them). */
export function baseName(p: string): string {
  const parts = p.trim().split(/[\\/]+/)
  return parts[parts.length - 1] || p.trim()
}

/** Removes Rich's time/level/source columns; other lines come back trimmed. */
export function richMessage(line: string): string {
  let m = line
  const prefix = RICH_PREFIX.exec(m)
  if (prefix) {
    m = m.slice(prefix[0].length)
    m = m.replace(RICH_SUFFIX, '')
  }
  return m.trim()
}

type Caching = 'latents' | 'text_encoder' | null

/**
 * Reads sd-scripts console output as it arrives (pty chunks, bytes or strings) and turns it into typed
 * events. Pure and incremental: `feed` any split of the stream, `end` once. Never throws on input;
 * what it does not understand becomes a `text` event.
 */
export class ProgressParser {
  private readonly decoder = new Utf8StreamDecoder()
  private readonly ansi = new AnsiStripper()
  private readonly lines = new LineSplitter()
  private readonly keepText: boolean
  private startup: StartupEvent | null = null
  private caching: Caching = null
  private cachingDone = false
  private inTraceback = false
  private afterSampling = 0
  private nanReported = false
  /** A bar already read from the unfinished last frame; not reported twice when its line completes. */
  private peeked: string | null = null

  constructor(options: ParserOptions = {}) {
    this.keepText = options.keepText ?? true
  }

  feed(chunk: Uint8Array | string): RunEvent[] {
    const text = this.ansi.write(this.decoder.write(chunk))
    const out: RunEvent[] = []
    for (const seg of this.lines.write(text)) this.segment(seg, out)
    this.peek(out)
    return out
  }

  end(): RunEvent[] {
    const out: RunEvent[] = []
    const tail = this.ansi.write(this.decoder.end())
    for (const seg of this.lines.write(tail)) this.segment(seg, out)
    this.ansi.end()
    for (const seg of this.lines.end()) this.segment(seg, out)
    return out
  }

  /** The live bar: report the unfinished frame when it is a complete bar (tqdm writes `\r` + bar in one go). */
  private peek(out: RunEvent[]): void {
    const partial = this.lines.partial
    if (partial.length === 0 || partial === this.peeked || !partial.trimEnd().endsWith(']')) return
    const bar = parseTqdm(partial)
    if (!bar || bar.rest.trim() !== '') return
    this.peeked = partial
    this.progress(bar, out)
  }

  private segment(seg: Segment, out: RunEvent[]): void {
    let text = seg.text
    const peeked = this.peeked
    this.peeked = null
    if (peeked !== null && text.startsWith(peeked)) {
      text = text.slice(peeked.length)
      if (text.trim() === '') return
    }
    this.line(text, out)
  }

  private line(raw: string, out: RunEvent[]): void {
    const line = raw.trimEnd()
    if (line.trim() === '') return
    const bar = parseTqdm(line)
    if (bar) {
      this.progress(bar, out)
      if (bar.rest.trim() !== '') this.line(bar.rest, out)
      return
    }
    const msg = richMessage(line)
    if (!this.message(line, msg, out) && this.keepText) out.push({ type: 'text', line })
  }

  private progress(bar: TqdmBar, out: RunEvent[]): void {
    let kind: ProgressEvent['bar'] = 'other'
    if (bar.desc === 'steps') kind = 'train'
    else if (bar.desc !== null && bar.desc.includes('validation')) kind = 'validation'
    else if (bar.desc === null && this.caching === 'latents') kind = 'caching_latents'
    else if (bar.desc === null && this.caching === 'text_encoder') kind = 'caching_text_encoder'
    if (kind === 'train') this.caching = null
    // sd-scripts before 2023-04 put the same running average under `loss` (`set_postfix(loss=avr_loss)`).
    const loss = bar.postfix.avr_loss ?? (kind === 'train' ? bar.postfix.loss : undefined)
    out.push({
      type: 'progress',
      bar: kind,
      desc: bar.desc,
      step: bar.step,
      total: bar.total,
      percent: bar.percent,
      elapsed_s: bar.elapsedS,
      remaining_s: bar.remainingS,
      rate: bar.rate,
      it_per_s: bar.itPerS,
      avr_loss: typeof loss === 'number' ? loss : null,
      postfix: bar.postfix,
    })
    if (typeof loss === 'string' && /nan/i.test(loss) && !this.nanReported) {
      this.nanReported = true
      this.fail(out, 'nan_loss', `avr_loss=${loss} at step ${bar.step}`, null)
    }
    if (
      (kind === 'caching_latents' || kind === 'caching_text_encoder') &&
      bar.total !== null &&
      bar.step >= bar.total &&
      !this.cachingDone
    ) {
      this.cachingDone = true
      out.push({
        type: 'caching',
        what: kind === 'caching_latents' ? 'latents' : 'text_encoder',
        phase: 'done',
      })
    }
  }

  private fail(out: RunEvent[], kind: FailureEvent['kind'], message: string, detail: string | null): void {
    out.push({ type: 'failure', kind, message, detail })
  }

  /** Recognises one message; returns false when it is not one we know. */
  private message(line: string, msg: string, out: RunEvent[]): boolean {
    // Dispatch on the first letter: every known message starts with one of a few, and most lines of a
    // chatty run are none of them, so they skip the expressions below (a 200 MB log stays fast).
    if (this.known(msg.charCodeAt(0), msg, out)) return true
    if (this.afterSampling > 0) {
      this.afterSampling--
      if (msg.startsWith('prompt: ')) {
        out.push({ type: 'sample_prompt', prompt: msg.slice(8) })
        return true
      }
    }
    return this.failure(line, msg, out)
  }

  private known(first: number, msg: string, out: RunEvent[]): boolean {
    let m: RegExpExecArray | null
    switch (first) {
      case 101: // e
        if ((m = EPOCH.exec(msg))) {
          out.push({ type: 'epoch', epoch: Number(m[1]), total: Number(m[2]) })
          return true
        }
        return false
      case 114: // r
        if (msg.startsWith('running training')) {
          this.startup = emptyStartup()
          return true
        }
        if ((m = /^removing old checkpoint: (.+)$/.exec(msg)))
          return this.checkpoint('removed', m[1] ?? '', out)
        return false
      case 110: // n
      case 98: // b
      case 103: // g
      case 116: // t
        if ((m = SUMMARY_FIELD.exec(msg))) {
          this.summaryField(m[1] ?? '', m[2] ?? '', out)
          return true
        }
        if (first === 103 && (m = /^generating sample images at step\b[^:]*:\s*(\d+)/.exec(msg))) {
          out.push({ type: 'sampling', step: Number(m[1]) })
          this.afterSampling = 12
          return true
        }
        return false
      case 99: // c
      case 67: // C
        if (/^caching latents/i.test(msg)) return this.startCaching('latents', out)
        if (/^caching text encoder outputs/i.test(msg)) return this.startCaching('text_encoder', out)
        return false
      case 115: // s
        return this.saving(msg, out)
      case 109: // m
        if (/^model saved\.?$/.test(msg)) {
          out.push({ type: 'model_saved' })
          return true
        }
        return false
      default:
        return false
    }
  }

  private saving(msg: string, out: RunEvent[]): boolean {
    let m: RegExpExecArray | null
    if ((m = /^saving checkpoint: (.+)$/.exec(msg)) || (m = /^saving model: (.+)$/.exec(msg))) {
      return this.checkpoint('saved', m[1] ?? '', out)
    }
    if ((m = /^save trained model as (?:StableDiffusion checkpoint|Diffusers) to (.+)$/.exec(msg))) {
      return this.checkpoint('saved', m[1] ?? '', out)
    }
    if ((m = /^saving state at (epoch|step) (\d+)/.exec(msg))) {
      const n = Number(m[2])
      out.push({
        type: 'state_saved',
        epoch: m[1] === 'epoch' ? n : null,
        step: m[1] === 'step' ? n : null,
        path: null,
      })
      return true
    }
    if (/^saving last state/.test(msg)) {
      out.push({ type: 'state_saved', epoch: null, step: null, path: null })
      return true
    }
    if ((m = /^save train state to (.+) at epoch (\d+) step (\d+)/.exec(msg))) {
      out.push({ type: 'state_saved', epoch: Number(m[2]), step: Number(m[3]), path: m[1] ?? null })
      return true
    }
    return false
  }

  private failure(line: string, msg: string, out: RunEvent[]): boolean {
    let known = false
    let m: RegExpExecArray | null
    if (line.includes('Traceback (most') && TRACEBACK.test(line)) {
      this.inTraceback = true
      this.fail(out, 'traceback', msg.replace(/^[\s─╭╮│]+|[\s─╭╮│]+$/g, ''), null)
      return true
    }
    // The end of a Rich box: its exception line comes next (also when the box's top was cut off).
    if (line.startsWith('╰')) this.inTraceback = true
    // The exception line follows the frames at column 0 (plain tracebacks and Rich boxes alike).
    if (this.inTraceback && (m = EXCEPTION_LINE.exec(line))) {
      this.inTraceback = false
      const cls = m[1] ?? ''
      this.fail(out, 'exception', line.trim(), cls.split('.').pop() ?? cls)
      known = true
    }
    if ((line.includes('out of memory') || line.includes('OutOfMemory')) && OOM.test(line)) {
      this.fail(out, 'oom', line.trim(), null)
      known = true
    }
    if (line.includes('No module named') && (m = MISSING_MODULE.exec(line))) {
      this.fail(out, 'missing_module', line.trim(), m[1] ?? null)
      known = true
    }
    if (msg.startsWith('No data') && NO_DATA.test(msg)) {
      this.fail(out, 'no_data', msg, null)
      known = true
    }
    if (msg.includes('NaN') && NAN.test(msg) && !this.nanReported) {
      this.nanReported = true
      this.fail(out, 'nan_loss', msg, null)
      known = true
    }
    return known
  }

  private startCaching(what: 'latents' | 'text_encoder', out: RunEvent[]): boolean {
    // sd-scripts announces one caching pass twice ("caching latents with caching strategy.", then
    // "caching latents..."): one pass, one start. A new pass (the next dataset) starts after a done.
    if (this.caching === what && !this.cachingDone) return true
    this.caching = what
    this.cachingDone = false
    out.push({ type: 'caching', what, phase: 'start' })
    return true
  }

  private checkpoint(action: 'saved' | 'removed', path: string, out: RunEvent[]): boolean {
    const p = path.trim()
    out.push({ type: 'checkpoint', action, path: p, file: baseName(p) })
    return true
  }

  private summaryField(name: string, value: string, out: RunEvent[]): void {
    const s = (this.startup ??= emptyStartup())
    const n = Number(value.replace(/[,\s]/g, ''))
    switch (name) {
      case 'num train images * repeats':
        s.train_images_with_repeats = n
        break
      case 'num validation images * repeats':
        s.validation_images_with_repeats = n
        break
      case 'num reg images':
        s.reg_images = n
        break
      case 'num examples':
        s.num_examples = n
        s.variant = 'finetune'
        break
      case 'num batches per epoch':
        s.batches_per_epoch = n
        break
      case 'num epochs':
        s.epochs = n
        break
      case 'batch size per device':
        s.batch_size_per_device = value
          .split(',')
          .map((v) => Number(v.trim()))
          .filter((v) => Number.isInteger(v))
        break
      case 'gradient accumulation steps':
        s.gradient_accumulation_steps = n
        break
      case 'total optimization steps':
        // The last line of the block: report it whole.
        s.total_steps = n
        out.push({ ...s })
        this.startup = null
        break
    }
  }
}

function emptyStartup(): StartupEvent {
  return {
    type: 'startup',
    variant: 'network',
    train_images_with_repeats: null,
    validation_images_with_repeats: null,
    reg_images: null,
    num_examples: null,
    batches_per_epoch: null,
    epochs: null,
    batch_size_per_device: null,
    gradient_accumulation_steps: null,
    total_steps: null,
  }
}
