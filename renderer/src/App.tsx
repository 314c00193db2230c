import { AppShell, Group, NavLink, Title } from '@mantine/core'
import { lazy, Suspense, useState, type ComponentType } from 'react'
import { useTranslation } from 'react-i18next'
import EnvironmentPage from './pages/EnvironmentPage'
import GpuPage from './pages/GpuPage'
import SettingsPage from './pages/SettingsPage'

// Heavy pages (terminal, charts) load on demand so the first frame stays small.
const TrainPage = lazy(() => import('./pages/TrainPage'))
const RunsPage = lazy(() => import('./pages/RunsPage'))

export const pages: Array<{ id: string; labelKey: string; component: ComponentType }> = [
  { id: 'environment', labelKey: 'nav.environment', component: EnvironmentPage },
  { id: 'train', labelKey: 'nav.train', component: TrainPage },
  { id: 'runs', labelKey: 'nav.runs', component: RunsPage },
  { id: 'gpu', labelKey: 'nav.gpu', component: GpuPage },
  { id: 'settings', labelKey: 'nav.settings', component: SettingsPage },
]

function initialPage(): string {
  const hash = window.location.hash.replace(/^#\/?/, '')
  return pages.some((p) => p.id === hash) ? hash : 'train'
}

export function App() {
  const { t } = useTranslation()
  const [page, setPage] = useState(initialPage)
  const Current = pages.find((p) => p.id === page)?.component ?? GpuPage
  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 200, breakpoint: 0 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md">
          <Title order={3}>{t('appName')}</Title>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        {pages.map((p) => (
          <NavLink
            key={p.id}
            label={t(p.labelKey)}
            active={p.id === page}
            data-testid={`nav-${p.id}`}
            onClick={() => {
              setPage(p.id)
              window.location.hash = `/${p.id}`
            }}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense fallback={t('loading')}>
          <Current />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  )
}
