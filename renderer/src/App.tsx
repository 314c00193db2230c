import { Alert, AppShell, Button, Group, Loader, NavLink, Title } from '@mantine/core'
import { lazy, Suspense, useEffect, useState, type ComponentType } from 'react'
import { useTranslation } from 'react-i18next'
import { isDesktopApp } from './api/client'
import { useConnectionLost } from './api/connection'
import { DesktopShell } from './desktop/DesktopShell'
import { DropNotice } from './desktop/DropNotice'
import { FileMenu } from './desktop/FileMenu'
import { runFocusIntents } from './desktop/intent-hub'
import { NotifyToggle } from './desktop/NotifyToggle'
import { RunStatusShell } from './desktop/RunStatusShell'
import { PageErrorBoundary } from './components/PageErrorBoundary'

// Every page loads on demand: the first frame needs only the shell (nav, header, banner). Heavy views
// (terminal, charts, forms) then never weigh on startup.
const EnvironmentPage = lazy(() => import('./pages/EnvironmentPage'))
const TrainPage = lazy(() => import('./pages/TrainPage'))
const DatasetPage = lazy(() => import('./pages/DatasetPage'))
const RunsPage = lazy(() => import('./pages/RunsPage'))
const LoraToolsPage = lazy(() => import('./pages/LoraToolsPage'))
const GpuPage = lazy(() => import('./pages/GpuPage'))
const SettingsPage = lazy(() => import('./pages/SettingsPage'))

export const pages: Array<{ id: string; labelKey: string; component: ComponentType }> = [
  { id: 'environment', labelKey: 'nav.environment', component: EnvironmentPage },
  { id: 'train', labelKey: 'nav.train', component: TrainPage },
  { id: 'dataset', labelKey: 'nav.dataset', component: DatasetPage },
  { id: 'runs', labelKey: 'nav.runs', component: RunsPage },
  { id: 'lora', labelKey: 'nav.lora', component: LoraToolsPage },
  { id: 'gpu', labelKey: 'nav.gpu', component: GpuPage },
  { id: 'settings', labelKey: 'nav.settings', component: SettingsPage },
]

const defaultPage = 'train'

function pageFromHash(): string {
  const hash = window.location.hash.replace(/^#\/?/, '')
  return pages.some((p) => p.id === hash) ? hash : defaultPage
}

/** The page follows the URL hash (#/gpu), so reload and back/forward keep the user where they were. */
function useHashPage(): [string, (id: string) => void] {
  const [page, setPage] = useState(pageFromHash)
  useEffect(() => {
    const onHash = () => setPage(pageFromHash())
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])
  const go = (id: string) => {
    setPage(id)
    window.location.hash = `/${id}`
  }
  return [page, go]
}

/** Marks the first frame in which the shell is on screen and clickable (read by bench:startup and e2e). */
function useInteractiveMark(): void {
  useEffect(() => {
    const frame = requestAnimationFrame(() => {
      if (performance.getEntriesByName('sdxl:interactive').length === 0) {
        performance.mark('sdxl:interactive')
      }
      document.documentElement.dataset.interactive = 'true'
    })
    return () => cancelAnimationFrame(frame)
  }, [])
}

function ConnectionBanner() {
  const { t } = useTranslation()
  const lost = useConnectionLost()
  if (lost === null) return null
  return (
    <Alert color="red" title={t('connectionLostTitle')} mb="md" data-testid="connection-lost">
      <Group justify="space-between" wrap="nowrap">
        <span>{t('connectionLost', { reason: lost })}</span>
        <Button size="xs" variant="white" color="red" onClick={() => window.location.reload()}>
          {t('reload')}
        </Button>
      </Group>
    </Alert>
  )
}

export function App() {
  const { t } = useTranslation()
  const [page, go] = useHashPage()
  useInteractiveMark()
  const current = pages.find((p) => p.id === page)
  const Current = current?.component ?? TrainPage
  // Each page names the browser tab (and the window) after itself; a run's progress goes before it.
  const pageLabel = t(current?.labelKey ?? 'nav.train')
  const openRun = (id: string) => {
    go('runs')
    runFocusIntents.publish({ type: 'open-run', id })
  }
  return (
    <DesktopShell page={page} go={go}>
      <RunStatusShell base={t('appName')} idle={`${pageLabel} · ${t('appName')}`} openRun={openRun} />
      <AppShell header={{ height: 52 }} navbar={{ width: 200, breakpoint: 0 }} padding="md">
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Title order={3}>{t('appName')}</Title>
            <Group gap="xs" wrap="nowrap">
              <FileMenu />
              {isDesktopApp() ? null : <NotifyToggle />}
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs" component="nav" aria-label={t('nav.label')} data-testid="nav">
          {pages.map((p) => (
            <NavLink
              key={p.id}
              href={`#/${p.id}`}
              label={t(p.labelKey)}
              active={p.id === page}
              data-testid={`nav-${p.id}`}
              onClick={(e) => {
                e.preventDefault()
                go(p.id)
              }}
            />
          ))}
        </AppShell.Navbar>
        <AppShell.Main>
          <ConnectionBanner />
          <DropNotice />
          <PageErrorBoundary key={page}>
            <Suspense fallback={<Loader size="sm" aria-label={t('loading')} />}>
              <Current />
            </Suspense>
          </PageErrorBoundary>
        </AppShell.Main>
      </AppShell>
    </DesktopShell>
  )
}
