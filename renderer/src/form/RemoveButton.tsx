import { ActionIcon } from '@mantine/core'

/** The × that removes one item of a list (an image folder, a sample prompt), beside its first field. */
export function RemoveButton({
  label,
  testId,
  onClick,
}: {
  label: string
  testId: string
  onClick: () => void
}) {
  return (
    <ActionIcon
      mt={28}
      variant="subtle"
      color="red"
      aria-label={label}
      data-testid={testId}
      onClick={onClick}
    >
      ×
    </ActionIcon>
  )
}
