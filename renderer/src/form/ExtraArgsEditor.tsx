import { ActionIcon, Autocomplete, Button, Code, Group, Stack, Switch, Text, TextInput } from '@mantine/core'
import { useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { optionInfo, optionNames } from '../../../core/sdscripts/args'
import { coerceExtraArg, scriptFor } from '../../../core/sdscripts/render'
import { useFormat } from '../i18n/format'
import { useForm } from './form-context'

/** Option names as argparse dests; a leading dash is let through so the checks can offer to remove it. */
const NAME = /^-*[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Extra sd-scripts options for experts: name → value, added to config.toml after the form's own
 * settings. Names autocomplete from the script's option list (core/sdscripts/args-v0.10.1.json) and
 * each value is checked against the option's type as it is typed.
 */
export function ExtraArgsEditor() {
  const { t } = useTranslation('train')
  const f = useFormat()
  const form = useForm()
  const config = form.state.config
  const script = scriptFor(config)
  const names = useMemo(() => optionNames(script), [script])
  const [name, setName] = useState('')
  const [value, setValue] = useState('')
  const entries = Object.entries(config.extra_args)
  const newName = name.trim()
  const nameProblem = newName && !NAME.test(newName) ? t('extraBadName') : undefined

  const problemOf = (key: string, v: unknown): string | undefined => {
    const issue = form.issuesAt(`extra_args.${key}`).find((i) => i.severity === 'error')
    if (issue) return f.message('train:issues', issue)
    const info = optionInfo(script, key)
    if (!info) return undefined
    if (coerceExtraArg(script, key, v as never) === null)
      return t('extraBadValue', { kind: t(`argKinds.${info.kind.replace('[]', '_list')}`) })
    return undefined
  }

  const add = () => {
    if (!newName || nameProblem) return
    const info = optionInfo(script, newName.replace(/^-+/, ''))
    form.set(`extra_args.${newName}`, info?.kind === 'flag' && value.trim() === '' ? true : value)
    setName('')
    setValue('')
  }

  return (
    <Stack gap="xs" data-testid="extra-args">
      <Text size="sm" c="dimmed">
        {t('extraHelp', { script: `${script}.py` })}
      </Text>
      {entries.map(([key, v]) => {
        const info = optionInfo(script, key)
        const problem = problemOf(key, v)
        return (
          <Group key={key} gap="xs" wrap="nowrap" align="flex-start" data-testid={`extra-row-${key}`}>
            <Code style={{ flexShrink: 0, marginTop: 8, maxWidth: '40%', overflowWrap: 'anywhere' }}>
              --{key}
            </Code>
            {info?.kind === 'flag' && typeof v === 'boolean' ? (
              <Switch
                mt={8}
                style={{ flex: 1 }}
                checked={v}
                label={v ? t('extraOn') : t('extraOff')}
                onChange={(e) => form.set(`extra_args.${key}`, e.currentTarget.checked)}
                data-testid={`extra-value-${key}`}
              />
            ) : (
              <TextInput
                style={{ flex: 1, minWidth: 0 }}
                aria-label={t('extraValueFor', { name: key })}
                value={Array.isArray(v) ? v.join(' ') : String(v)}
                onChange={(e) => form.set(`extra_args.${key}`, e.currentTarget.value)}
                error={problem}
                description={
                  info ? t(`argKinds.${info.kind.replace('[]', '_list')}`) : t('extraUnknownOption')
                }
                data-testid={`extra-value-${key}`}
              />
            )}
            <ActionIcon
              mt={6}
              variant="subtle"
              color="red"
              aria-label={t('extraRemove', { name: key })}
              onClick={() => form.set(`extra_args.${key}`, undefined)}
              data-testid={`extra-remove-${key}`}
            >
              ×
            </ActionIcon>
          </Group>
        )
      })}
      <Group gap="xs" align="flex-start" wrap="wrap">
        <Autocomplete
          style={{ flex: '1 1 220px', minWidth: 0 }}
          label={t('extraName')}
          placeholder="debiased_estimation_loss"
          data={names}
          limit={40}
          value={name}
          onChange={setName}
          error={nameProblem}
          comboboxProps={{ withinPortal: true }}
          data-testid="extra-new-name"
        />
        <TextInput
          style={{ flex: '1 1 160px', minWidth: 0 }}
          label={t('extraValue')}
          value={value}
          onChange={(e) => setValue(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') add()
          }}
          description={
            optionInfo(script, newName)
              ? t(`argKinds.${optionInfo(script, newName)!.kind.replace('[]', '_list')}`)
              : undefined
          }
          data-testid="extra-new-value"
        />
        <Button
          mt={25}
          variant="light"
          onClick={add}
          disabled={!newName || !!nameProblem}
          style={{ flexShrink: 0 }}
          data-testid="extra-add"
        >
          {t('extraAdd')}
        </Button>
      </Group>
    </Stack>
  )
}
