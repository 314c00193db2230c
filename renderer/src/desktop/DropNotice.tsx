import { Alert, List, Text } from '@mantine/core'
import { useEffect } from 'react'
import { useTranslation } from 'react-i18next'
import type { DropIntent } from '../../../core/desktop/drop-policy'
import { useShell } from './shell-context'

/** A notice that lists only what went where disappears by itself; one with problems stays until closed. */
const AUTO_HIDE_MS = 12_000

function IntentLine({ intent }: { intent: DropIntent }) {
  const { t } = useTranslation('desktop')
  switch (intent.type) {
    case 'set-model-path':
      return <>{t('drop.intent.model', { path: intent.path })}</>
    case 'add-image-folder':
      return <>{t('drop.intent.folder', { path: intent.path })}</>
    case 'import-kohya-json':
      return <>{t('drop.intent.kohya', { name: intent.name })}</>
    case 'import-toml':
      return (
        <>
          {t('drop.intent.toml', { name: intent.name })}
          {intent.dataset ? ` ${t('drop.intent.withDataset')}` : ''}
          {intent.prompts ? ` ${t('drop.intent.withPrompts')}` : ''}
        </>
      )
  }
}

/** What the last drop (or opened file) did: where each item went, and why others went nowhere. */
export function DropNotice() {
  const { t } = useTranslation('desktop')
  const { notice, dismissNotice } = useShell()
  const onlyGood = !!notice && notice.plan.problems.length === 0
  useEffect(() => {
    if (!onlyGood) return
    const timer = setTimeout(dismissNotice, AUTO_HIDE_MS)
    return () => clearTimeout(timer)
  }, [onlyGood, notice, dismissNotice])
  if (!notice) return null
  const { intents, problems } = notice.plan
  return (
    <Alert
      color={problems.length ? (intents.length ? 'yellow' : 'red') : 'blue'}
      title={intents.length ? t('drop.doneTitle') : t('drop.nothingTitle')}
      withCloseButton
      closeButtonLabel={t('drop.close')}
      onClose={dismissNotice}
      mb="md"
      data-testid="drop-notice"
    >
      {intents.length ? (
        <List size="sm" data-testid="drop-intents">
          {intents.map((intent, i) => (
            <List.Item key={i}>
              <IntentLine intent={intent} />
            </List.Item>
          ))}
        </List>
      ) : null}
      {problems.length ? (
        <List size="sm" mt={intents.length ? 'xs' : 0} data-testid="drop-problems">
          {problems.map((p, i) => (
            <List.Item key={i} data-code={p.code}>
              {t(`drop.problem.${p.code}`, { name: p.params.name, detail: p.params.detail ?? '' })}
            </List.Item>
          ))}
        </List>
      ) : null}
      {notice.waiting > 0 ? (
        <Text size="xs" c="dimmed" mt="xs" data-testid="drop-waiting">
          {t('drop.waiting')}
        </Text>
      ) : null}
    </Alert>
  )
}
