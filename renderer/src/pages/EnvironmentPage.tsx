import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  List,
  SegmentedControl,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core'
import { FitAddon } from '@xterm/addon-fit'
import { Terminal } from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'
import { useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { RequestOutput } from '../../../core/api/contract'
import type { InstallProgress, StepState } from '../../../core/env/state'
import { useApiAction, useApiCall, useSubscription } from '../api/hooks'
import { coded, useEnvError, useEnvMessage, useTorchWhy } from '../i18n/env-messages'
import { useFormat as useUiFormat } from '../i18n/format'

type PlanResult = RequestOutput<'env.plan'>
type VerifyResult = RequestOutput<'env.verify'>
type EnvItem = RequestOutput<'env.list'>['environments'][number]

/** Files the server found in the folder besides the install's, from a refused remove ('foreign_files'). */
interface ForeignFiles {
  folder: string
  files: string[]
}

function foreignFilesOf(error: unknown): ForeignFiles | null {
  const details = (error as { details?: unknown } | null)?.details
  if (typeof details !== 'object' || details === null) return null
  const d = details as { kind?: unknown; folder?: unknown; files?: unknown }
  if (d.kind !== 'foreign_files' || typeof d.folder !== 'string' || !Array.isArray(d.files)) return null
  return { folder: d.folder, files: d.files.filter((f): f is string => typeof f === 'string') }
}

/**
 * The files a remove would delete although the install did not create them: each must be ticked by
 * name before Remove goes on (the server refuses otherwise); nothing is ticked at first.
 */
function ForeignFilesConfirm(props: {
  foreign: ForeignFiles
  ticked: string[]
  onTick: (ticked: string[]) => void
  onConfirm: () => void
  onCancel: () => void
}) {
  const { t } = useTranslation('env')
  const { foreign, ticked } = props
  const all = foreign.files.every((f) => ticked.includes(f))
  return (
    <Alert color="red" title={t('foreign.title')} data-testid="env-foreign">
      <Stack gap="xs">
        <Text size="sm">{t('foreign.text', { folder: foreign.folder })}</Text>
        <Stack gap={4} style={{ maxHeight: 200, overflowY: 'auto' }}>
          {foreign.files.map((f) => (
            <Checkbox
              key={f}
              label={<Code>{f}</Code>}
              checked={ticked.includes(f)}
              onChange={(e) =>
                props.onTick(e.currentTarget.checked ? [...ticked, f] : ticked.filter((x) => x !== f))
              }
              data-testid="env-foreign-file"
            />
          ))}
        </Stack>
        <Group gap="xs">
          <Button
            color="red"
            size="xs"
            disabled={!all}
            onClick={props.onConfirm}
            data-testid="env-foreign-confirm"
          >
            {t('foreign.confirm')}
          </Button>
          <Button size="xs" variant="default" onClick={props.onCancel}>
            {t('actions.cancel')}
          </Button>
        </Group>
      </Stack>
    </Alert>
  )
}

const stateColor: Record<StepState, string> = {
  pending: 'gray',
  running: 'blue',
  done: 'teal',
  failed: 'red',
  skipped: 'gray',
}

function useFormat() {
  const { i18n, t } = useTranslation('env')
  const one = new Intl.NumberFormat(i18n.language, { maximumFractionDigits: 1 })
  const { date } = useUiFormat()
  return {
    date,
    seconds: (ms: number | null) => (ms === null ? '' : t('seconds', { value: one.format(ms / 1000) })),
    bytes: (n: number | null) => {
      if (n === null) return ''
      if (n >= 1024 ** 3) return t('gb', { value: one.format(n / 1024 ** 3) })
      if (n >= 1024 ** 2) return t('mb', { value: one.format(n / 1024 ** 2) })
      return t('kb', { value: one.format(Math.max(1, n / 1024)) })
    },
  }
}

/** The live install log: xterm, acknowledging output only once xterm has parsed it (flow control). */
function LogView() {
  const host = useRef<HTMLDivElement>(null)
  const term = useRef<Terminal | null>(null)
  const pending = useRef<string[]>([])
  const processedRef = useRef<(units: number) => void>(() => undefined)
  const { processed } = useSubscription(
    'env.log',
    {},
    {
      keepLatest: false,
      onData: (chunk) => {
        const t = term.current
        if (!t) {
          pending.current.push(chunk.data)
          return
        }
        t.write(chunk.data, () => processedRef.current(chunk.data.length))
      },
    },
  )
  useEffect(() => {
    processedRef.current = processed
  }, [processed])
  useEffect(() => {
    if (!host.current) return
    const t = new Terminal({
      scrollback: 5000,
      fontSize: 12,
      convertEol: false,
      disableStdin: true,
      rows: 18,
    })
    const fit = new FitAddon()
    t.loadAddon(fit)
    t.open(host.current)
    fit.fit()
    term.current = t
    for (const data of pending.current.splice(0)) t.write(data, () => processedRef.current(data.length))
    const onResize = () => fit.fit()
    window.addEventListener('resize', onResize)
    return () => {
      window.removeEventListener('resize', onResize)
      term.current = null
      t.dispose()
    }
  }, [])
  return <div ref={host} data-testid="env-log" style={{ height: 320, background: '#000', padding: 4 }} />
}

function StepsTable({ progress }: { progress: InstallProgress }) {
  const { t } = useTranslation('env')
  const m = useEnvMessage()
  const f = useFormat()
  return (
    <Table data-testid="env-steps" striped>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{t('step')}</Table.Th>
          <Table.Th>{t('state')}</Table.Th>
          <Table.Th>{t('duration')}</Table.Th>
          <Table.Th>{t('size')}</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {progress.steps.map((s) => (
          <Table.Tr key={s.id} data-testid={`env-step-${s.id}`} data-state={s.state}>
            <Table.Td>
              <Text size="sm">{t(`steps.${s.id}`)}</Text>
              <Text size="xs" c="dimmed">
                {m(coded.title(s))}
              </Text>
              {s.skipReason && (
                <Text size="xs" c="dimmed">
                  {m(coded.skip(s))}
                </Text>
              )}
              {s.error && (
                <Text size="xs" c="red" style={{ whiteSpace: 'pre-wrap' }}>
                  {m(coded.error(s), s.id)}
                </Text>
              )}
            </Table.Td>
            <Table.Td>
              <Badge color={stateColor[s.state]} variant={s.state === 'running' ? 'filled' : 'light'}>
                {t(`states.${s.state}`)}
              </Badge>
            </Table.Td>
            <Table.Td>{f.seconds(s.durationMs)}</Table.Td>
            <Table.Td>
              {s.bytes !== null ? f.bytes(s.bytes) : s.estimateBytes ? `~${f.bytes(s.estimateBytes)}` : ''}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  )
}

function PlanView({ plan }: { plan: PlanResult }) {
  const { t } = useTranslation('env')
  const m = useEnvMessage()
  const torchWhy = useTorchWhy()
  const f = useFormat()
  return (
    <Card withBorder data-testid="env-plan">
      <Stack gap="xs">
        {plan.error && (
          <Alert color="red" title={t('planError')} data-testid="env-plan-error">
            {m(plan.error)}
          </Alert>
        )}
        {plan.prechecks?.problems.map((p, i) => (
          <Alert
            key={i}
            color={p.severity === 'error' ? 'red' : p.severity === 'warning' ? 'orange' : 'blue'}
          >
            {m(p)}
          </Alert>
        ))}
        {plan.plan && (
          <>
            <Text size="sm">
              {t('planSummary', {
                version: plan.plan.version,
                dir: plan.plan.envDir,
                size: f.bytes(plan.plan.totalBytes),
              })}
            </Text>
            {plan.plan.torch && (
              <Text size="sm" c="dimmed" data-testid="env-plan-torch">
                {t('torchChoice', {
                  torch: plan.plan.torch.torch,
                  index: plan.plan.torch.index,
                  why: torchWhy(plan.plan.torch),
                })}
              </Text>
            )}
            <List size="sm" type="ordered">
              {plan.plan.steps.map((s) => (
                <List.Item key={s.id}>
                  {m(coded.title(s))}
                  {s.skipReason ? ` — ${m(coded.skip(s))}` : ''}
                </List.Item>
              ))}
            </List>
          </>
        )}
      </Stack>
    </Card>
  )
}

function VerifyView({ result }: { result: VerifyResult }) {
  const { t } = useTranslation('env')
  const m = useEnvMessage()
  const p = result.probe
  return (
    <Alert
      color={result.ok ? 'teal' : 'red'}
      title={result.ok ? t('verifyOk') : t('verifyBroken')}
      data-testid="env-verify"
    >
      <Stack gap={4}>
        {p && (
          <Text size="sm">
            {t('verifySummary', {
              python: p.python.version,
              version: p.sd_scripts.tag ?? t('unknown'),
              library: p.library.importable ? t('yes') : t('no'),
              torch: p.torch ? (p.torch.version ?? t('no')) : t('notChecked'),
            })}
          </Text>
        )}
        {result.error && (
          <Text size="sm">
            {m({ message: result.error, code: result.errorCode, params: result.errorParams })}
          </Text>
        )}
        {result.problems.map((pr, i) => (
          <Text key={i} size="sm">
            {m(pr)}
          </Text>
        ))}
      </Stack>
    </Alert>
  )
}

/**
 * The selected environment as it is now, without pressing anything: ready or not (and why), its
 * folder, its size on disk, and what its last verify found.
 */
function EnvSummary({ env }: { env: EnvItem }) {
  const { t } = useTranslation('env')
  const m = useEnvMessage()
  const f = useFormat()
  const last = env.lastVerify ?? null
  return (
    <Card withBorder data-testid="env-summary" data-ready={env.ready ? 'true' : 'false'}>
      <Stack gap={6}>
        <Group justify="space-between">
          <Text fw={500}>
            {env.name} · {env.kind === 'external' ? t('status.external') : (env.version ?? t('unknown'))}
          </Text>
          <Badge color={env.ready ? 'teal' : 'red'} data-testid="env-ready">
            {env.ready ? t('ready') : t('notReady')}
          </Badge>
        </Group>
        <Text size="sm" c="dimmed" style={{ wordBreak: 'break-all' }}>
          {env.envDir}
          {env.sizeBytes ? ` · ${t('onDisk', { size: f.bytes(env.sizeBytes) })}` : ''}
        </Text>
        {env.notReady && (
          <Text size="sm" c="red" style={{ whiteSpace: 'pre-wrap' }} data-testid="env-not-ready">
            {env.notReadyReason ? m(env.notReadyReason) : env.notReady}
          </Text>
        )}
        {last && (
          <Text size="xs" c="dimmed" data-testid="env-last-verify">
            {t(last.ok ? 'lastVerifyOk' : 'lastVerifyBroken', { when: f.date(last.at) })}
          </Text>
        )}
      </Stack>
    </Card>
  )
}

export default function EnvironmentPage() {
  const { t } = useTranslation(['env', 'common'])
  const m = useEnvMessage()
  const list = useApiCall('env.list', {})
  const versions = useApiCall('env.versions', {})
  const [name, setName] = useState('default')
  const [version, setVersion] = useState<string | null>(null)
  const [torch, setTorch] = useState<'auto' | 'cpu' | 'none'>('auto')
  const [source, setSource] = useState('')
  const [plan, setPlan] = useState<PlanResult | null>(null)
  const [verify, setVerify] = useState<VerifyResult | null>(null)
  const [confirmRemove, setConfirmRemove] = useState(false)
  const [foreign, setForeign] = useState<ForeignFiles | null>(null)
  const [ticked, setTicked] = useState<string[]>([])
  // The refusal as it came (its coded messages are shown in the UI's language).
  const [error, setError] = useState<unknown>(null)
  const errorText = useEnvError()
  // The form follows the environment it names (its recorded choices), so Resume/Repair act on what
  // is shown; typing another name starts a new install's form from there. Adjusted while rendering
  // (React's "state from changed data" pattern), once per name.
  const [picked, setPicked] = useState(false)
  const [syncedName, setSyncedName] = useState<string | null>(null)
  const environments = list.data?.environments
  if (environments && !picked) {
    setPicked(true)
    const first = environments.find((e) => e.active) ?? environments[0]
    if (first && !environments.some((e) => e.name === name)) setName(first.name)
  }
  const named = environments?.find((e) => e.name === name)
  if (named && syncedName !== name) {
    setSyncedName(name)
    setTorch(named.choices?.torch ?? 'auto')
    setSource(named.choices?.source ?? '')
    setVersion(named.version)
  }
  const info = useApiCall('app.info', {})
  const progressSub = useSubscription('env.progress', {})
  const status = useApiCall(
    'env.status',
    { name },
    { enabled: list.data?.environments.some((e) => e.name === name) ?? false },
  )
  const live = progressSub.data?.name === name ? progressSub.data : undefined
  const progress = live ?? status.data ?? null
  const running = progress?.status === 'running' && live !== undefined

  const actions = {
    plan: useApiAction('env.plan'),
    install: useApiAction('env.install'),
    resume: useApiAction('env.resume'),
    verify: useApiAction('env.verify'),
    repair: useApiAction('env.repair'),
    update: useApiAction('env.update'),
    remove: useApiAction('env.remove'),
    stop: useApiAction('env.stop'),
  }
  const busy = Object.values(actions).some((a) => a.pending)
  const request = {
    name,
    torch,
    ...(version ? { version } : {}),
    ...(source.trim() ? { source: source.trim() } : {}),
  }
  const act = async (fn: () => Promise<unknown>) => {
    setError(null)
    try {
      await fn()
    } catch (e) {
      setError(e)
    } finally {
      list.reload()
    }
  }
  const { reload: reloadList } = list
  useEffect(() => {
    if (progressSub.data?.status && progressSub.data.status !== 'running') reloadList()
  }, [progressSub.data?.status, reloadList])

  const existing = list.data?.environments.find((e) => e.name === name)
  /** Remove; a refusal over files the install did not create opens the list to confirm them by name. */
  const remove = (confirmForeign: string[]) =>
    act(async () => {
      try {
        await actions.remove.run({
          name,
          confirm: true,
          ...(confirmForeign.length ? { confirmForeign } : {}),
        })
        setForeign(null)
      } catch (e) {
        const found = foreignFilesOf(e)
        if (!found) throw e
        setForeign(found)
        setTicked((prev) => prev.filter((f) => found.files.includes(f)))
      }
    })
  return (
    <Stack>
      <Title order={2}>{t('title')}</Title>
      {list.data && list.data.environments.length > 0 && (
        <Group gap="xs" data-testid="env-list">
          {list.data.environments.map((e) => (
            <Button
              key={e.name}
              size="xs"
              variant={e.name === name ? 'filled' : 'default'}
              onClick={() => setName(e.name)}
              rightSection={e.active ? <Badge size="xs">{t('active')}</Badge> : null}
            >
              {e.name} · {e.version ?? t('unknown')} · {e.ready ? t('ready') : t(`status.${e.status}`)}
            </Button>
          ))}
        </Group>
      )}
      <Card withBorder>
        <Stack gap="sm">
          <Group grow align="end">
            <TextInput
              label={t('name')}
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              data-testid="env-name"
            />
            <Select
              label={t('version')}
              placeholder={versions.data?.[0]?.tag}
              data={(versions.data ?? []).map((v) => v.tag)}
              value={version}
              onChange={setVersion}
              data-testid="env-version"
            />
          </Group>
          <TextInput
            label={t('source')}
            description={t('sourceHelp')}
            placeholder="https://github.com/kohya-ss/sd-scripts.git"
            value={source}
            onChange={(e) => setSource(e.currentTarget.value)}
            data-testid="env-source"
          />
          <div>
            <Text size="sm" fw={500}>
              {t('torch')}
            </Text>
            <SegmentedControl
              value={torch}
              onChange={(v) => setTorch(v as typeof torch)}
              data={[
                { value: 'auto', label: t('torchAuto') },
                { value: 'cpu', label: t('torchCpu') },
                { value: 'none', label: t('torchNone') },
              ]}
              data-testid="env-torch"
            />
          </div>
          <Group gap="xs">
            <Button
              variant="default"
              loading={actions.plan.pending}
              onClick={() => act(async () => setPlan(await actions.plan.run(request)))}
              data-testid="env-plan-button"
            >
              {t('actions.plan')}
            </Button>
            <Button
              disabled={busy || running}
              onClick={() => act(() => actions.install.run(request))}
              data-testid="env-install"
            >
              {t('actions.install')}
            </Button>
            <Button
              variant="light"
              disabled={
                busy || running || !existing || existing.kind === 'external' || progress?.status === 'done'
              }
              onClick={() => act(() => actions.resume.run({ name }))}
              data-testid="env-resume"
            >
              {t('actions.resume')}
            </Button>
            <Button
              variant="light"
              disabled={busy || running || !existing}
              onClick={() => act(async () => setVerify(await actions.verify.run({ name })))}
              data-testid="env-verify-button"
            >
              {t('actions.verify')}
            </Button>
            <Button
              variant="light"
              disabled={busy || running || !existing || existing.kind === 'external'}
              onClick={() => act(() => actions.repair.run({ name }))}
              data-testid="env-repair"
            >
              {t('actions.repair')}
            </Button>
            <Button
              variant="light"
              disabled={
                busy ||
                running ||
                !existing ||
                existing.kind === 'external' ||
                !version ||
                version === existing.version
              }
              onClick={() => act(() => actions.update.run({ name, version: version! }))}
              data-testid="env-update"
            >
              {t('actions.update')}
            </Button>
            {running && (
              <Button
                color="orange"
                variant="light"
                onClick={() => act(() => actions.stop.run({}))}
                data-testid="env-stop"
              >
                {t('actions.stop')}
              </Button>
            )}
            {!confirmRemove ? (
              <Button
                color="red"
                variant="subtle"
                disabled={busy || running || !existing}
                onClick={() => setConfirmRemove(true)}
                data-testid="env-remove"
              >
                {t('actions.remove')}
              </Button>
            ) : (
              <Group gap={4}>
                <Text size="sm" c="red">
                  {existing?.kind === 'external'
                    ? t('confirmForget')
                    : t('confirmRemove', { dir: existing?.envDir ?? '' })}
                </Text>
                <Button
                  color="red"
                  size="xs"
                  onClick={() => {
                    setConfirmRemove(false)
                    void remove([])
                  }}
                  data-testid="env-remove-confirm"
                >
                  {t('actions.confirm')}
                </Button>
                <Button size="xs" variant="default" onClick={() => setConfirmRemove(false)}>
                  {t('actions.cancel')}
                </Button>
              </Group>
            )}
          </Group>
          {foreign && foreign.folder === existing?.envDir && (
            <ForeignFilesConfirm
              foreign={foreign}
              ticked={ticked}
              onTick={setTicked}
              onConfirm={() => void remove(ticked)}
              onCancel={() => setForeign(null)}
            />
          )}
          {error !== null && (
            <Alert color="red" data-testid="env-error" style={{ whiteSpace: 'pre-wrap' }}>
              {errorText(error)}
            </Alert>
          )}
          {info.data?.platform === 'win32' && (
            <Text size="xs" c="dimmed" data-testid="env-antivirus-hint">
              {t('antivirus', {
                folder: plan?.plan?.envDir ?? existing?.envDir ?? `${info.data.dataDir}\\envs`,
              })}
            </Text>
          )}
        </Stack>
      </Card>
      {existing && <EnvSummary env={existing} />}
      {plan && <PlanView plan={plan} />}
      {verify && verify.name === name && <VerifyView result={verify} />}
      {progress && (
        <Card withBorder>
          <Group justify="space-between" mb="xs">
            <Text fw={500}>{t('progressTitle', { name: progress.name })}</Text>
            <Badge
              data-testid="env-status"
              data-status={progress.status}
              color={progress.status === 'done' ? 'teal' : progress.status === 'running' ? 'blue' : 'red'}
            >
              {t(`status.${progress.status}`)}
            </Badge>
          </Group>
          {progress.lastError && (
            <Alert color="red" mb="xs" style={{ whiteSpace: 'pre-wrap' }}>
              {m(progress.lastError, progress.lastError.step)}
            </Alert>
          )}
          <StepsTable progress={progress} />
        </Card>
      )}
      <Stack gap={4}>
        <Text fw={500}>{t('log')}</Text>
        <LogView />
        <Text size="xs" c="dimmed">
          {t('logHelp')} <Code>logs/install.log</Code>
        </Text>
      </Stack>
    </Stack>
  )
}
