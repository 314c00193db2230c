import { expect, type Page } from '@playwright/test'

/** The Train page's folded sections (the first ones are open by default). */
export const FOLDED_SECTIONS = ['loss', 'memory', 'samples', 'logging', 'launch', 'advanced'] as const

/**
 * Every control of the Train page on screen: one image folder with its caption options, every folded
 * section opened, samples enabled with one prompt.
 */
export async function openEveryTrainControl(page: Page) {
  await page.getByTestId('train-add-folder').click()
  await page.getByTestId('subset-options-0').click()
  for (const s of FOLDED_SECTIONS) await page.getByTestId(`section-toggle-${s}`).click()
  await page.getByTestId('field-sampling.enabled').check()
  await page.getByTestId('prompt-add').click()
}

/**
 * Picks an option of a Select (by its test id) the way a user does: open it, click the option. Tried
 * again from the start when the option cannot be clicked: a layout shift while the list is open (a
 * dataset summary or gauge appearing on a loaded machine) can move the field, and the list, anchored to
 * it, hides when the field scrolls out of view.
 */
export async function chooseOption(page: Page, testId: string, option: string, exact = false) {
  await expect(async () => {
    await page.keyboard.press('Escape')
    await page.getByTestId(testId).click({ timeout: 5_000 })
    await page.getByRole('option', { name: option, exact }).click({ timeout: 5_000 })
  }).toPass({ timeout: 60_000 })
}
