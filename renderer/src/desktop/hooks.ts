import { useEffect, useRef } from 'react'
import type { AppCommand } from '../../../core/desktop/app-commands'
import type { DropIntent } from '../../../core/desktop/drop-policy'
import { commandIntents, dropIntents, DROP_INTENT_TYPES, runFocusIntents } from './intent-hub'

/** Keeps the latest handler without resubscribing on every render. */
function useLatest<T>(value: T) {
  const ref = useRef(value)
  useEffect(() => {
    ref.current = value
  }, [value])
  return ref
}

/**
 * For the Train page: files dropped on the window or the headless page, opened from the menu, or given to a
 * second launch. A few lines are enough:
 *
 *   useDropIntents((intent) => {
 *     switch (intent.type) {
 *       case 'set-model-path':    // set config.model.path (model.inspect then checks it)
 *       case 'add-image-folder':  // add a dataset subset for intent.path (kohya-style "10_cat" names give repeats)
 *       case 'import-kohya-json': // config.importKohya({ json: JSON.parse(intent.text) }), then the import report
 *       case 'import-toml':       // config.importToml({ config: intent.config, dataset: intent.dataset, prompts: intent.prompts })
 *     }
 *   })
 *
 * Intents that arrived before the page subscribed (the shell switched to the Train page for them) are
 * delivered on subscribe.
 */
export function useDropIntents(
  handler: (intent: DropIntent) => void,
  types: readonly DropIntent['type'][] = DROP_INTENT_TYPES,
): void {
  const latest = useLatest(handler)
  const key = types.join(',')
  useEffect(
    () => dropIntents.subscribe(key.split(',') as DropIntent['type'][], (i) => latest.current(i)),
    [key, latest],
  )
}

/**
 * For a page that carries out menu commands and shortcuts: the Train page takes 'start' (Ctrl+Enter) and
 * 'save-preset' (Ctrl+S). 'stop' and 'open-config' are handled by the app shell.
 */
export function useAppCommands(
  commands: readonly AppCommand[],
  handler: (command: AppCommand) => void,
): void {
  const latest = useLatest(handler)
  const key = commands.join(',')
  useEffect(
    () => commandIntents.subscribe(key.split(',') as AppCommand[], (i) => latest.current(i.type)),
    [key, latest],
  )
}

/** For the Runs page: select a run when the user asked to see it (a notification was clicked). */
export function useRunFocus(select: (id: string) => void): void {
  const latest = useLatest(select)
  useEffect(() => runFocusIntents.subscribe(['open-run'], (i) => latest.current(i.id)), [latest])
}
