import { Alert, Button, Code, Stack, Text } from '@mantine/core'
import { Component, type ErrorInfo, type ReactNode } from 'react'
import { useTranslation } from 'react-i18next'

function Fallback({ error, onReload }: { error: Error; onReload: () => void }) {
  const { t } = useTranslation()
  return (
    <Alert color="red" title={t('pageError.title')} data-testid="page-error">
      <Stack gap="xs" align="flex-start">
        <Text size="sm">{t('pageError.text')}</Text>
        <Code block style={{ maxWidth: '100%', whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
          {error.message || String(error)}
        </Code>
        <Button size="xs" color="red" variant="white" onClick={onReload} data-testid="page-error-reload">
          {t('pageError.reload')}
        </Button>
      </Stack>
    </Alert>
  )
}

/**
 * Keeps a page's failure inside the page: the navigation and every other page stay usable, the
 * error is shown, and "Reload this page" mounts the page again (the Train page then restores its
 * draft, so the user's settings come back).
 */
export class PageErrorBoundary extends Component<
  { children: ReactNode },
  { error: Error | null; generation: number }
> {
  override state = { error: null as Error | null, generation: 0 }

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) }
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    // Visible in the developer console (and to tests), with the component stack.
    console.warn('A page failed to render:', error, info.componentStack)
  }

  override render() {
    if (this.state.error)
      return (
        <Fallback
          error={this.state.error}
          onReload={() => this.setState((s) => ({ error: null, generation: s.generation + 1 }))}
        />
      )
    return <div key={this.state.generation}>{this.props.children}</div>
  }
}
