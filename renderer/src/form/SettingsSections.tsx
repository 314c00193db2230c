import { Accordion, Badge, Group, SimpleGrid, Stack, Text, TextInput } from '@mantine/core'
import { useEffect, useState, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'
import i18next, { ensureLanguageLoaded, supportedLanguages } from '../i18n'
import { ExtraArgsEditor } from './ExtraArgsEditor'
import { FieldInput } from './FieldInput'
import {
  ALL_FIELDS,
  appliesTo,
  FIELDS,
  OPEN_SECTIONS,
  PROMPT_FIELDS,
  SECTIONS,
  sectionOfPath,
  SUBSET_FIELDS,
  type FieldDef,
  type SectionId,
} from './fields'
import { useForm } from './form-context'
import { pendingProblems } from './form-state'
import { PromptsEditor } from './PromptsEditor'
import { SubsetsEditor } from './SubsetsEditor'

export interface SectionExtras {
  /** Shown at the top of a section (the preset picker in Model). */
  before?: ReactNode
  /** Shown at the end (the dataset scan summary in Dataset). */
  after?: ReactNode
}

/** Lower-case words a field is found by: its label in every language, its path and its sd-scripts options. */
function haystack(field: FieldDef): string {
  const labels = supportedLanguages.map((lng) =>
    i18next.getFixedT(lng, 'train')(`fields.${field.id}.label`, { defaultValue: '' }),
  )
  const args = (field.args ?? []).flatMap((a) => [a, a.replace(/_/g, ' ')])
  return [...labels, field.id, field.path, ...args].join(' ').toLowerCase()
}

function matches(field: FieldDef, words: string[]): boolean {
  const text = haystack(field)
  return words.every((w) => text.includes(w))
}

/** The list editors stand for their item fields: a match inside an item shows the whole list. */
function listMatch(path: string, items: readonly FieldDef[], words: string[]): boolean {
  return items.some((f) => matches(f, words)) && FIELDS.some((f) => f.path === path)
}

/**
 * The settings, section by section, rendered from the registry (fields.ts). Sections fold; the search
 * box shows only the settings whose name (in English or Russian) or sd-scripts option matches, and
 * lists those that match but do not apply to the current settings.
 */
export function SettingsSections({ extras = {} }: { extras?: Partial<Record<SectionId, SectionExtras>> }) {
  const { t } = useTranslation('train')
  const form = useForm()
  const config = form.state.config
  const [open, setOpen] = useState<string[]>([...OPEN_SECTIONS])
  const [query, setQuery] = useState('')
  const [, setLoaded] = useState(0)
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean)
  const searching = words.length > 0

  // Labels in every language are searched: load the other languages on the first search.
  useEffect(() => {
    if (!searching) return
    let live = true
    void Promise.all(supportedLanguages.map((l) => ensureLanguageLoaded(l))).then(() => {
      if (live) setLoaded((n) => n + 1)
    })
    return () => {
      live = false
    }
  }, [searching])

  const visible = (f: FieldDef) => {
    if (!searching) return true
    if (f.path === 'dataset.subsets') return listMatch(f.path, SUBSET_FIELDS, words) || matches(f, words)
    if (f.path === 'sampling.prompts') return listMatch(f.path, PROMPT_FIELDS, words) || matches(f, words)
    return matches(f, words)
  }
  const shown = (s: SectionId) => FIELDS.filter((f) => f.section === s && appliesTo(f, config) && visible(f))
  const notApplying = searching
    ? ALL_FIELDS.filter((f) => FIELDS.includes(f) && !appliesTo(f, config) && matches(f, words))
    : []

  const problems: Partial<Record<SectionId, number>> = {}
  const add = (path: string | undefined) => {
    const s = path ? sectionOfPath(path) : null
    if (s) problems[s] = (problems[s] ?? 0) + 1
  }
  for (const p of pendingProblems(form.state, form.decimalComma)) add(p)
  if (form.showErrors) for (const i of form.issues) if (i.severity === 'error') add(i.field)

  const sections = SECTIONS.filter((s) => !searching || shown(s).length > 0)
  const total = searching ? sections.reduce((n, s) => n + shown(s).length, 0) : 0

  return (
    <Stack gap="sm">
      <TextInput
        placeholder={t('searchPlaceholder')}
        aria-label={t('searchLabel')}
        value={query}
        onChange={(e) => setQuery(e.currentTarget.value)}
        data-testid="settings-search"
        rightSection={
          query ? (
            <Text
              component="button"
              type="button"
              size="xs"
              c="dimmed"
              aria-label={t('searchClear')}
              onClick={() => setQuery('')}
              style={{ background: 'none', border: 0, cursor: 'pointer' }}
            >
              ×
            </Text>
          ) : undefined
        }
      />
      {searching && (
        <Text size="xs" c="dimmed" data-testid="settings-search-count">
          {total ? t('searchFound', { count: total }) : t('searchNone', { query: query.trim() })}
          {notApplying.length > 0 &&
            ` ${t('searchNotApplying', { fields: notApplying.map((f) => t(`fields.${f.id}.label`)).join(', ') })}`}
        </Text>
      )}
      <Accordion
        multiple
        variant="separated"
        value={searching ? sections : open}
        onChange={(v) => {
          if (!searching) setOpen(v)
        }}
        data-testid="train-sections"
      >
        {sections.map((s) => {
          const fields = shown(s)
          const n = problems[s] ?? 0
          return (
            <Accordion.Item key={s} value={s} data-testid={`section-${s}`}>
              <Accordion.Control data-testid={`section-toggle-${s}`}>
                <Group gap="xs" wrap="wrap">
                  <Text fw={600}>{t(`sections.${s}`)}</Text>
                  {n > 0 && (
                    <Badge color="red" variant="light" size="sm" data-testid={`section-problems-${s}`}>
                      {t('sectionProblems', { count: n })}
                    </Badge>
                  )}
                </Group>
              </Accordion.Control>
              <Accordion.Panel>
                <Stack gap="sm">
                  {!searching && extras[s]?.before}
                  {fields.length === 0 && (
                    <Text size="sm" c="dimmed">
                      {t('sectionEmpty')}
                    </Text>
                  )}
                  <SimpleGrid cols={{ base: 1, sm: 2, xl: 3 }} spacing="sm" verticalSpacing="sm">
                    {fields.map((f) => (
                      <div key={f.path} style={f.wide ? { gridColumn: '1 / -1' } : undefined}>
                        {f.widget.kind === 'subsets' ? (
                          <SubsetsEditor summary={extras.dataset?.after} />
                        ) : f.widget.kind === 'prompts' ? (
                          <PromptsEditor />
                        ) : f.widget.kind === 'extraArgs' ? (
                          <ExtraArgsEditor />
                        ) : (
                          <FieldInput field={f} path={f.path} />
                        )}
                      </div>
                    ))}
                  </SimpleGrid>
                  {!searching && s !== 'dataset' && extras[s]?.after}
                </Stack>
              </Accordion.Panel>
            </Accordion.Item>
          )
        })}
      </Accordion>
    </Stack>
  )
}
