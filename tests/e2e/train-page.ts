import type { Page } from '@playwright/test'

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
