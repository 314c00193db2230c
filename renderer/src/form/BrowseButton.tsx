import { Alert, Button, Code, Group, Modal, NavLink, ScrollArea, Stack, Text, TextInput } from '@mantine/core'
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import { getApiClient } from '../api/client'
import { useApiCall } from '../api/hooks'
import { useFormat } from '../i18n/format'

export type BrowseMode = 'folders' | 'models'

const LAST_KEY = (mode: BrowseMode) => `sdxl-studio.browse.last.${mode}`

/** The folder the browser showed last in this mode, so the next pick starts there. */
function lastFolder(mode: BrowseMode): string | undefined {
  try {
    return window.localStorage.getItem(LAST_KEY(mode)) ?? undefined
  } catch {
    return undefined
  }
}

function rememberFolder(mode: BrowseMode, folder: string): void {
  try {
    window.localStorage.setItem(LAST_KEY(mode), folder)
  } catch {
    // Storage full or disabled: the browser simply starts in the home folder next time.
  }
}

/** The folder of a file path (models mode starts beside the chosen file). */
function folderOf(p: string): string {
  return p.replace(/[\\/][^\\/]*$/, '') || p
}

/**
 * Picks a folder or a model file. In the desktop app: the native dialog (paths.pick). In a browser
 * talking to headless mode (or when the native dialog is unavailable): the backend's folder listing
 * (paths.browse) in a modal, since the browser cannot see the machine's files. The path at the top can
 * be typed or pasted; the last folder shown is remembered for the next time.
 */
export function BrowseButton({
  mode,
  start,
  onPick,
  testId,
}: {
  mode: BrowseMode
  start: string
  onPick: (path: string) => void
  testId: string
}) {
  const { t } = useTranslation(['train', 'common'])
  const f = useFormat()
  const [open, setOpen] = useState(false)
  const [at, setAt] = useState<string | undefined>(undefined)
  const [typed, setTyped] = useState('')
  const listing = useApiCall('paths.browse', { path: at, mode }, { enabled: open })
  const data =
    listing.data && listing.data.path === at ? listing.data : listing.error ? undefined : listing.data

  const go = (p: string | undefined) => {
    setAt(p)
    setTyped(p ?? '')
  }
  const showBrowser = () => {
    const from = start.trim() ? (mode === 'models' ? folderOf(start.trim()) : start.trim()) : lastFolder(mode)
    go(from)
    setOpen(true)
  }
  const show = async () => {
    if (!window.sdxlStudio) return showBrowser()
    try {
      const picked = await getApiClient().call('paths.pick', {
        kind: mode === 'models' ? 'file' : 'folder',
        title: mode === 'models' ? t('pickModel') : t('pickFolder'),
        ...(mode === 'models'
          ? { filters: [{ name: t('modelFiles'), extensions: ['safetensors', 'ckpt'] }] }
          : {}),
        ...(start ? { defaultPath: start } : {}),
      })
      if (picked.path) onPick(picked.path)
    } catch {
      // No native dialog here ('unavailable') or it failed: the folder browser always works.
      showBrowser()
    }
  }
  const choose = (p: string, folder: string) => {
    rememberFolder(mode, folder)
    onPick(p)
    setOpen(false)
  }
  const notFound = (listing.error?.details as { kind?: string } | undefined)?.kind === 'browse_not_found'
  return (
    <>
      <Button variant="default" onClick={() => void show()} data-testid={testId} style={{ flexShrink: 0 }}>
        {t('browse')}
      </Button>
      <Modal
        opened={open}
        onClose={() => setOpen(false)}
        title={mode === 'models' ? t('pickModel') : t('pickFolder')}
        size="lg"
      >
        <Stack gap="xs">
          <Group gap="xs">
            {data?.roots.map((r) => (
              <Button key={r} size="compact-xs" variant="light" onClick={() => go(r)}>
                {r}
              </Button>
            ))}
          </Group>
          <form
            onSubmit={(e) => {
              e.preventDefault()
              const p = typed.trim()
              // A typed model file is taken as it is; anything else is opened as a folder.
              if (mode === 'models' && /\.(safetensors|ckpt)$/i.test(p)) choose(p, folderOf(p))
              else go(p || undefined)
            }}
          >
            <Group gap="xs" wrap="nowrap" align="flex-end">
              <TextInput
                style={{ flex: 1, minWidth: 0 }}
                label={t('browsePath')}
                value={typed}
                onChange={(e) => setTyped(e.currentTarget.value)}
                data-testid="browse-typed-path"
              />
              <Button type="submit" variant="default" style={{ flexShrink: 0 }} data-testid="browse-go">
                {t('browseGo')}
              </Button>
            </Group>
          </form>
          <Code data-testid="browse-path" style={{ overflowWrap: 'anywhere' }}>
            {data?.path ?? at ?? ''}
          </Code>
          {listing.error && (
            <Alert color="red" data-testid="browse-error">
              {notFound ? t('browseNotFound', { path: at ?? '' }) : listing.error.message}
            </Alert>
          )}
          <ScrollArea h={300}>
            {data?.parent && <NavLink label=".." onClick={() => go(data.parent ?? undefined)} />}
            {data?.entries.map((e) => (
              <NavLink
                key={e.path}
                label={e.kind === 'dir' ? `📁 ${e.name}` : e.name}
                description={
                  e.size !== null
                    ? t('sizeGb', { size: f.number(Math.round(e.size / 1e7) / 100) })
                    : undefined
                }
                onClick={() => {
                  if (e.kind === 'dir') go(e.path)
                  else choose(e.path, data.path)
                }}
              />
            ))}
          </ScrollArea>
          {mode === 'folders' && data && (
            <Group justify="space-between">
              <Text size="sm" c="dimmed">
                {t('imagesHere', { count: data.images })}
              </Text>
              <Button data-testid="browse-choose" onClick={() => choose(data.path, data.path)}>
                {t('chooseFolder')}
              </Button>
            </Group>
          )}
        </Stack>
      </Modal>
    </>
  )
}
