import { Button, Group, Modal, Overlay, Paper, Stack, Text, Title } from '@mantine/core'
import { useHotkeys } from '@mantine/hooks'
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import type { IntentBatch } from '../../../core/api/domains/desktop'
import { COMMAND_SHORTCUTS, type AppCommand } from '../../../core/desktop/app-commands'
import { planDrop, type DropPlan } from '../../../core/desktop/drop-policy'
import { ACTIVE_STATES, type RunRecord } from '../../../core/runs/record'
import { getApiClient, isDesktopApp } from '../api/client'
import { useApiAction, useApiCall, useSubscription } from '../api/hooks'
import { collectDropped, collectPicked, readDropped, type CollectedFile } from './collect-drop'
import { commandIntents, dropIntents, runFocusIntents } from './intent-hub'
import { ShellContext, type DropNoticeState, type ShellApi } from './shell-context'

/** Commands a page carries out; the shell only brings the user to that page first. */
const PAGE_COMMANDS: Partial<Record<AppCommand, string>> = { start: 'train', 'save-preset': 'train' }

function hasFiles(event: DragEvent): boolean {
  return !!event.dataTransfer && [...event.dataTransfer.types].includes('Files')
}

/**
 * The app-level part of the desktop behaviour, mounted once around the shell: files dropped anywhere on the
 * window or page (routed by core/desktop/drop-policy.ts to the Train page's intents), what the desktop host
 * asks for (menu commands, files of a second launch, a clicked notification), the keyboard shortcuts in a
 * browser, the Stop dialog and "Open config…".
 */
export function DesktopShell({
  page,
  go,
  children,
}: {
  page: string
  go: (id: string) => void
  children: ReactNode
}) {
  const { t } = useTranslation('desktop')
  const desktop = isDesktopApp()
  const [dragging, setDragging] = useState(false)
  const [notice, setNotice] = useState<DropNoticeState | null>(null)
  const [stopOpen, setStopOpen] = useState(false)
  const fileInput = useRef<HTMLInputElement>(null)
  const pageRef = useRef(page)
  useEffect(() => {
    pageRef.current = page
  }, [page])

  /** Hands a plan's intents to the pages (the Train page for all of them today) and says what happened. */
  const dispatchPlan = useCallback(
    (plan: DropPlan) => {
      if (plan.intents.length > 0 && pageRef.current !== 'train') go('train')
      let waiting = 0
      for (const intent of plan.intents) if (!dropIntents.publish(intent)) waiting++
      if (plan.intents.length || plan.problems.length) setNotice({ plan, waiting, at: Date.now() })
    },
    [go],
  )

  /** Collected files to a plan: paths through the services (desktop), contents read here (browser). */
  const route = useCallback(
    async (collected: CollectedFile[]) => {
      if (collected.length === 0) return
      const withPath = collected.filter((c) => c.path !== '')
      const without = collected.filter((c) => c.path === '')
      const plans: DropPlan[] = []
      if (withPath.length) {
        try {
          plans.push(await getApiClient().call('files.open', { paths: withPath.map((c) => c.path) }))
        } catch (error) {
          plans.push({
            intents: [],
            problems: withPath.map((c) => ({
              code: 'config_unreadable' as const,
              params: { name: c.path, detail: error instanceof Error ? error.message : String(error) },
            })),
          })
        }
      }
      if (without.length) plans.push(planDrop(await readDropped(without)))
      dispatchPlan({ intents: plans.flatMap((p) => p.intents), problems: plans.flatMap((p) => p.problems) })
    },
    [dispatchPlan],
  )

  // Files dragged over the window: an overlay says what can be dropped; a drop is routed.
  useEffect(() => {
    let depth = 0
    const onEnter = (e: DragEvent) => {
      if (!hasFiles(e)) return
      depth++
      setDragging(true)
    }
    const onLeave = (e: DragEvent) => {
      if (!hasFiles(e)) return
      depth = Math.max(0, depth - 1)
      if (depth === 0) setDragging(false)
    }
    const onOver = (e: DragEvent) => {
      if (!hasFiles(e)) return
      // Without this the browser (or Electron) would open the file in place of the app.
      e.preventDefault()
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'
    }
    const onDrop = (e: DragEvent) => {
      depth = 0
      setDragging(false)
      // Not files, or a page's own drop zone took it already.
      if (!e.dataTransfer || !hasFiles(e) || e.defaultPrevented) return
      e.preventDefault()
      const pathForFile = window.sdxlStudio ? (f: File) => window.sdxlStudio?.pathForFile(f) ?? '' : undefined
      void route(collectDropped(e.dataTransfer, pathForFile))
    }
    window.addEventListener('dragenter', onEnter)
    window.addEventListener('dragleave', onLeave)
    window.addEventListener('dragover', onOver)
    window.addEventListener('drop', onDrop)
    return () => {
      window.removeEventListener('dragenter', onEnter)
      window.removeEventListener('dragleave', onLeave)
      window.removeEventListener('dragover', onOver)
      window.removeEventListener('drop', onDrop)
    }
  }, [route])

  const openConfig = useCallback(() => {
    if (!desktop) {
      fileInput.current?.click()
      return
    }
    void getApiClient()
      .call('paths.pick', {
        kind: 'file',
        title: t('open.title'),
        filters: [{ name: t('open.filter'), extensions: ['json', 'toml'] }],
      })
      .then(async ({ path }) => {
        if (path) dispatchPlan(await getApiClient().call('files.open', { paths: [path] }))
      })
      .catch(() => undefined)
  }, [desktop, dispatchPlan, t])

  const runCommand = useCallback(
    (command: AppCommand) => {
      if (command === 'stop') return setStopOpen(true)
      if (command === 'open-config') return openConfig()
      const target = PAGE_COMMANDS[command]
      // A command acts on the page the user sees; from elsewhere it only brings them there.
      if (target && pageRef.current !== target) return go(target)
      commandIntents.publish({ type: command })
    },
    [go, openConfig],
  )

  const openPaths = useCallback(
    (paths: string[]) => {
      void getApiClient()
        .call('files.open', { paths })
        .then(dispatchPlan)
        .catch(() => undefined)
    },
    [dispatchPlan],
  )

  // What the desktop host asks for: menu commands, files of a second launch, a notification's run.
  useSubscription(
    'app.intents',
    {},
    {
      keepLatest: false,
      onData: useCallback(
        (batch: IntentBatch) => {
          const plan: DropPlan = { intents: [], problems: batch.problems }
          for (const intent of batch.intents) {
            if (intent.type === 'command') runCommand(intent.command)
            else if (intent.type === 'page') go(intent.page)
            else if (intent.type === 'open-run') {
              go('runs')
              runFocusIntents.publish(intent)
            } else plan.intents.push(intent)
          }
          if (plan.intents.length || plan.problems.length) dispatchPlan(plan)
        },
        [dispatchPlan, go, runCommand],
      ),
    },
  )

  // In a browser the shortcuts are the page's; in the desktop app the menu's accelerators carry them.
  useHotkeys(
    desktop
      ? []
      : COMMAND_SHORTCUTS.map((s) => [
          s.hotkey,
          () => runCommand(s.command),
          { preventDefault: true, usePhysicalKeys: true },
        ]),
    [],
  )

  const api: ShellApi = useMemo(
    () => ({ runCommand, openPaths, notice, dismissNotice: () => setNotice(null) }),
    [runCommand, openPaths, notice],
  )

  return (
    <ShellContext.Provider value={api}>
      {children}
      {dragging ? (
        <Overlay fixed blur={2} zIndex={400} center data-testid="drop-overlay">
          <Paper p="xl" radius="md" shadow="md" maw={560}>
            <Stack gap="xs">
              <Title order={3}>{t('drop.title')}</Title>
              <Text size="sm">{desktop ? t('drop.hintDesktop') : t('drop.hintBrowser')}</Text>
            </Stack>
          </Paper>
        </Overlay>
      ) : null}
      <input
        ref={fileInput}
        type="file"
        multiple
        accept=".json,.toml,.txt"
        hidden
        data-testid="open-config-input"
        onChange={(e) => {
          const files = e.currentTarget.files
          if (files?.length)
            void readDropped(collectPicked(files)).then((items) => dispatchPlan(planDrop(items)))
          e.currentTarget.value = ''
        }}
      />
      <StopDialog opened={stopOpen} onClose={() => setStopOpen(false)} onShowRuns={() => go('runs')} />
    </ShellContext.Provider>
  )
}

/** "Stop training…" (menu, Ctrl+Shift+Enter): which run, and how; never a stop without a click here. */
function StopDialog({
  opened,
  onClose,
  onShowRuns,
}: {
  opened: boolean
  onClose: () => void
  onShowRuns: () => void
}) {
  const { t } = useTranslation('desktop')
  return (
    <Modal opened={opened} onClose={onClose} title={t('stop.title')} data-testid="stop-dialog">
      {/* Mounted only while open: the list is read fresh each time. */}
      {opened ? <StopChoices onClose={onClose} onShowRuns={onShowRuns} /> : null}
    </Modal>
  )
}

function StopChoices({ onClose, onShowRuns }: { onClose: () => void; onShowRuns: () => void }) {
  const { t } = useTranslation('desktop')
  const list = useApiCall('run.list', {})
  const stop = useApiAction('run.stop')
  const runs = list.data?.runs.filter((r) => ACTIVE_STATES.includes(r.state) && r.state !== 'stopping')
  const error = list.error ?? stop.error
  const stopRun = (run: RunRecord, mode: 'now' | 'after_checkpoint') =>
    void stop
      .run({ id: run.id, mode })
      .then(() => {
        onClose()
        onShowRuns()
      })
      .catch(() => undefined)
  return (
    <Stack>
      {!runs && !error ? <Text size="sm">{t('stop.loading')}</Text> : null}
      {runs?.length === 0 ? <Text size="sm">{t('stop.nothing')}</Text> : null}
      {runs?.map((run) => (
        <Stack key={run.id} gap={4}>
          <Text fw={500}>{run.name}</Text>
          <Text size="xs" c="dimmed">
            {run.save_configured ? t('stop.hintSaving') : t('stop.hintNoSaving')}
          </Text>
          <Group gap="xs">
            <Button
              color="red"
              size="xs"
              loading={stop.pending}
              onClick={() => stopRun(run, 'now')}
              data-testid="stop-now"
            >
              {t('stop.now')}
            </Button>
            {run.save_configured && run.state === 'running' ? (
              <Button
                variant="light"
                size="xs"
                loading={stop.pending}
                onClick={() => stopRun(run, 'after_checkpoint')}
              >
                {t('stop.afterCheckpoint')}
              </Button>
            ) : null}
          </Group>
        </Stack>
      ))}
      {error ? (
        <Text size="sm" c="red">
          {error.message}
        </Text>
      ) : null}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose} data-testid="stop-cancel">
          {t('stop.cancel')}
        </Button>
      </Group>
    </Stack>
  )
}
