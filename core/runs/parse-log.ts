import type { LogSummary, RunEvent } from './events'
import { ProgressParser } from './progress-parser'
import { summarizeEvents } from './summary'

/** A whole saved console log through the parser: what `run parse-log` prints. */
export function parseLog(
  content: Uint8Array | string,
  options: { keepText?: boolean } = {},
): { summary: LogSummary; events: RunEvent[] } {
  const parser = new ProgressParser(options)
  const events = [...parser.feed(content), ...parser.end()]
  return { summary: summarizeEvents(events), events }
}
