import { Text } from '@mantine/core'
import { useTranslation } from 'react-i18next'
import type { ActivationBasis } from '../../../core/vram/bucket-basis'

/** The gauge's breakdown says what its activation memory is sized for: the largest bucket or the nominal size. */
export function VramBasisNote({ basis }: { basis: ActivationBasis }) {
  const { t } = useTranslation('train')
  const text =
    basis.kind === 'largest_bucket'
      ? basis.width === basis.nominal.width && basis.height === basis.nominal.height
        ? t('vramBasis.largest_bucket_same', { width: basis.width, height: basis.height })
        : t('vramBasis.largest_bucket', {
            width: basis.width,
            height: basis.height,
            nominalWidth: basis.nominal.width,
            nominalHeight: basis.nominal.height,
          })
      : t(`vramBasis.${basis.reason}`, { width: basis.width, height: basis.height })
  return (
    <Text size="xs" c="dimmed" mt={4} data-testid="vram-basis" data-basis={basis.kind}>
      {text}
    </Text>
  )
}
