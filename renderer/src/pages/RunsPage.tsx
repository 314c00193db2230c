import { Stack, Text, Title } from '@mantine/core'
import { useTranslation } from 'react-i18next'

export default function RunsPage() {
  const { t } = useTranslation(['runs', 'common'])
  return (
    <Stack>
      <Title order={2}>{t('title')}</Title>
      <Text c="dimmed">{t('common:comingSoon')}</Text>
    </Stack>
  )
}
