import { Alert, Badge, Button, Checkbox, Code, FileButton, Group, List, Stack, Text } from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { KohyaImportResult } from '../../../core/api/domains/configs'
import { acceptExtras, isPlainOption, type ExtraCandidate } from '../../../core/config/extras'
import type { TrainingConfig } from '../../../core/config/schema'
import { toApiError } from '../api/client'
import { useApiAction } from '../api/hooks'
import { useDropIntents } from '../desktop/hooks'
import { useFormat, type CodedMessage } from '../i18n/format'
import { WRAPPING_BUTTON } from './ChecksPanel'
import { downloadText } from './download'

type Report =
  | { kind: 'error'; message: CodedMessage }
  | { kind: 'import'; from: 'kohya' | 'toml'; result: KohyaImportResult; accepted: string[] }
  | { kind: 'export'; name: string; warnings: CodedMessage[] }

const RISK_COLOR: Record<ExtraCandidate['risk'], string> = {
  option: 'gray',
  path: 'yellow',
  writes_file: 'red',
  loads_code: 'red',
}

/** The coded message of an API error from an import (details.code), else its text. */
function errorMessage(e: unknown): CodedMessage {
  const err = toApiError(e)
  const d = err.details as { code?: string; params?: Record<string, string | number> } | undefined
  return { code: d?.code, params: d?.params, message: err.message }
}

/** Sorts the files the user picked: dataset config, prompts file, training config. */
async function readTomlFiles(files: File[]) {
  const out: { config?: string; dataset?: string; prompts?: string } = {}
  for (const f of files) {
    const text = await f.text()
    if (/\.txt$/i.test(f.name)) out.prompts = text
    else if (/^\s*\[\[datasets\]\]|^\s*\[general\]/m.test(text) || /dataset/i.test(f.name)) out.dataset = text
    else out.config = text
  }
  return out
}

/**
 * Opening kohya_ss GUI configs and sd-scripts' own TOML files, and saving a kohya_ss config. An import
 * shows a report: notes, settings that could not be carried over, and the sd-scripts options that are
 * not our settings, each to be accepted by the user (those that write files or load code are marked
 * and shown with their value).
 */
export function ImportExport({
  config,
  onImported,
}: {
  config: TrainingConfig
  onImported: (config: TrainingConfig) => void
}) {
  const { t } = useTranslation('train')
  const f = useFormat()
  const importKohya = useApiAction('config.importKohya')
  const importToml = useApiAction('config.importToml')
  const exportKohya = useApiAction('config.exportKohya')
  const [report, setReport] = useState<Report | null>(null)
  const [checked, setChecked] = useState<string[]>([])

  const afterImport = (from: 'kohya' | 'toml', result: KohyaImportResult) => {
    onImported(result.config)
    setChecked([])
    setReport({ kind: 'import', from, result, accepted: [] })
  }

  const openKohya = async (file: File | null) => {
    if (file) await openKohyaText(file.name, await file.text())
  }

  const openKohyaText = async (name: string, text: string) => {
    setReport(null)
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      setReport({
        kind: 'error',
        message: { code: 'kohya_not_json', params: { name }, message: '' },
      })
      return
    }
    try {
      afterImport('kohya', await importKohya.run({ json }))
    } catch (e) {
      setReport({ kind: 'error', message: errorMessage(e) })
    }
  }

  const openToml = async (files: File[]) => {
    if (!files.length) return
    setReport(null)
    const texts = await readTomlFiles(files)
    if (texts.config === undefined) {
      setReport({ kind: 'error', message: { message: t('tomlNeedsConfig') } })
      return
    }
    await importTomlTexts({ ...texts, config: texts.config })
  }

  const importTomlTexts = async (texts: Parameters<typeof importToml.run>[0]) => {
    try {
      afterImport('toml', await importToml.run(texts))
    } catch (e) {
      setReport({ kind: 'error', message: errorMessage(e) })
    }
  }

  // Configs dropped on the window, opened from the menu or given to a second launch.
  useDropIntents(
    (intent) => {
      if (intent.type === 'import-kohya-json') void openKohyaText(intent.name, intent.text)
      else if (intent.type === 'import-toml') {
        setReport(null)
        void importTomlTexts({
          config: intent.config,
          ...(intent.dataset !== undefined ? { dataset: intent.dataset } : {}),
          ...(intent.prompts !== undefined ? { prompts: intent.prompts } : {}),
        })
      }
    },
    ['import-kohya-json', 'import-toml'],
  )

  const saveKohya = async () => {
    setReport(null)
    try {
      const r = await exportKohya.run({ config })
      const name = `${config.saving.output_name || 'sdxl-studio'}.json`
      downloadText(name, `${JSON.stringify(r.json, null, 2)}\n`, 'application/json')
      setReport({ kind: 'export', name, warnings: r.warnings })
    } catch (e) {
      setReport({ kind: 'error', message: errorMessage(e) })
    }
  }

  const accept = () => {
    if (report?.kind !== 'import') return
    const extras = report.result.extras.filter((x) => !report.accepted.includes(x.name))
    const r = acceptExtras(config, extras, { names: checked })
    onImported(r.config)
    setReport({ ...report, accepted: [...report.accepted, ...r.accepted] })
    setChecked([])
  }

  const risk = (x: ExtraCandidate) =>
    x.risk === 'option' ? null : (
      <Badge color={RISK_COLOR[x.risk]} variant="light" size="sm" style={{ flexShrink: 0 }}>
        {t(`extraRisk.${x.risk}`)}
      </Badge>
    )

  return (
    <Stack gap="xs">
      <Group gap="xs" wrap="wrap">
        <FileButton onChange={(file) => void openKohya(file)} accept="application/json,.json">
          {(props) => (
            <Button
              variant="default"
              size="xs"
              {...props}
              loading={importKohya.pending}
              data-testid="train-import-kohya"
            >
              {t('importKohya')}
            </Button>
          )}
        </FileButton>
        <FileButton onChange={(files) => void openToml(files)} accept=".toml,.txt" multiple>
          {(props) => (
            <Button
              variant="default"
              size="xs"
              {...props}
              loading={importToml.pending}
              data-testid="train-import-toml"
            >
              {t('importToml')}
            </Button>
          )}
        </FileButton>
        <Button
          variant="default"
          size="xs"
          onClick={() => void saveKohya()}
          loading={exportKohya.pending}
          data-testid="train-export-kohya"
        >
          {t('exportKohya')}
        </Button>
      </Group>
      {report?.kind === 'error' && (
        <Alert color="red" withCloseButton onClose={() => setReport(null)} data-testid="train-import-note">
          {f.message('train:notes', report.message)}
        </Alert>
      )}
      {report?.kind === 'export' && (
        <Alert
          color={report.warnings.length ? 'yellow' : 'teal'}
          withCloseButton
          onClose={() => setReport(null)}
          data-testid="train-export-note"
        >
          <Text size="sm">{t('exportedKohya', { name: report.name })}</Text>
          {report.warnings.map((w, i) => (
            <Text size="sm" key={i}>
              {f.message('train:notes', w)}
            </Text>
          ))}
        </Alert>
      )}
      {report?.kind === 'import' && (
        <ImportReport
          report={report}
          checked={checked}
          setChecked={setChecked}
          onAccept={accept}
          onClose={() => setReport(null)}
          risk={risk}
        />
      )}
    </Stack>
  )
}

function ImportReport({
  report,
  checked,
  setChecked,
  onAccept,
  onClose,
  risk,
}: {
  report: Extract<Report, { kind: 'import' }>
  checked: string[]
  setChecked: (names: string[]) => void
  onAccept: () => void
  onClose: () => void
  risk: (x: ExtraCandidate) => React.ReactNode
}) {
  const { t } = useTranslation('train')
  const f = useFormat()
  const r = report.result
  const unmapped = r.keys.filter((k) => k.status === 'unmapped')
  const open = r.extras.filter((x) => !report.accepted.includes(x.name))
  const plain = open.filter(isPlainOption)
  const toggle = (name: string, on: boolean) =>
    setChecked(on ? [...new Set([...checked, name])] : checked.filter((n) => n !== name))
  const color = open.length || unmapped.length ? 'yellow' : 'teal'
  return (
    <Alert
      color={color}
      withCloseButton
      onClose={onClose}
      data-testid="train-import-note"
      title={t(report.from === 'kohya' ? 'importedKohya' : 'importedToml')}
    >
      <Stack gap={6}>
        {r.warnings.map((w, i) => (
          <Text size="sm" key={i}>
            {f.message('train:notes', w)}
          </Text>
        ))}
        {unmapped.length ? (
          <>
            <Text size="sm" fw={500}>
              {t('importUnmappedTitle', { count: unmapped.length })}
            </Text>
            <List size="sm" data-testid="import-unmapped">
              {unmapped.map((k) => (
                <List.Item key={k.key}>
                  <Code>{k.key}</Code>
                  {k.note
                    ? `: ${f.message('train:notes', { code: k.code, params: k.params, message: k.note })}`
                    : ''}
                </List.Item>
              ))}
            </List>
          </>
        ) : (
          <Text size="sm">{t('importAllMapped')}</Text>
        )}
        {report.accepted.length > 0 && (
          <Text size="sm" data-testid="import-accepted">
            {t('importAccepted', { names: report.accepted.join(', ') })}
          </Text>
        )}
        {open.length > 0 && (
          <Stack gap={4} data-testid="import-extras">
            <Text size="sm" fw={500}>
              {t('importExtrasTitle')}
            </Text>
            <Text size="xs">{t('importExtrasHelp')}</Text>
            {open.map((x) => (
              <Group key={x.name} gap="xs" wrap="nowrap" align="flex-start">
                <Checkbox
                  checked={checked.includes(x.name)}
                  onChange={(e) => toggle(x.name, e.currentTarget.checked)}
                  aria-label={t('importAcceptOne', { name: x.name })}
                  data-testid={`import-extra-${x.name}`}
                  mt={2}
                />
                <Stack gap={2} style={{ minWidth: 0, flex: 1 }}>
                  <Group gap={6} wrap="wrap">
                    <Code>--{x.name}</Code>
                    {risk(x)}
                  </Group>
                  <Code block style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                    {typeof x.value === 'string' ? x.value : JSON.stringify(x.value)}
                  </Code>
                </Stack>
              </Group>
            ))}
            <Group gap="xs" wrap="wrap">
              {plain.length > 0 && (
                <Button
                  size="compact-sm"
                  variant="subtle"
                  styles={WRAPPING_BUTTON}
                  onClick={() => setChecked([...new Set([...checked, ...plain.map((x) => x.name)])])}
                  data-testid="import-select-plain"
                >
                  {t('importSelectPlain', { count: plain.length })}
                </Button>
              )}
              <Button
                size="compact-sm"
                styles={WRAPPING_BUTTON}
                disabled={checked.length === 0}
                onClick={onAccept}
                data-testid="import-accept"
              >
                {t('importAcceptChosen', { count: checked.length })}
              </Button>
            </Group>
          </Stack>
        )}
      </Stack>
    </Alert>
  )
}
