import type { Page } from '@playwright/test'
import { FIELDS, PROMPT_FIELDS, SUBSET_FIELDS, type FieldDef } from '../../renderer/src/form/fields'
import { expect, test } from './fixtures'
import { FOLDED_SECTIONS } from './train-page'

/*
 * The Train page against hostile typing: every text and number input of the form registry gets the
 * values people really type (0, -1, 1.5, 1e-4, text, nothing, 10 000 characters, Cyrillic) and random
 * ones from a seeded generator. After each value the form is still there and no error reached the
 * console (the page fixture fails the test on any); after each section the draft is reloaded and every
 * field shows what was typed last.
 */

const FULL = process.env.MONKEY_FULL === '1'

const HOSTILE = ['0', '-1', '1.5', '1e-4', 'abc', '', 'x'.repeat(10_000), 'Кошка на окне']

/** mulberry32: a small seeded generator, so a failing run can be replayed with MONKEY_SEED. */
function generator(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function randomValue(rand: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T
  const kinds = [
    () => String(Math.floor(rand() * 2000) - 500),
    () => (rand() * 10).toFixed(Math.floor(rand() * 6)),
    () => `${Math.floor(rand() * 9) + 1}e-${Math.floor(rand() * 8)}`,
    () => pick(['NaN', 'Infinity', '-0', '0x1F', '1,5', '١٢', '  7  ', '1e', '--2', '.', '+3']),
    () =>
      pick(['<script>alert(1)</script>', '../../etc/passwd', 'C:\\data\\10_cat', '"quoted"', '💥🔥', '\t\n']),
    () =>
      Array.from({ length: Math.floor(rand() * 40) }, () =>
        String.fromCharCode(32 + Math.floor(rand() * 1100)),
      ).join(''),
  ]
  return pick(kinds)()
}

const typed = (f: FieldDef) =>
  f.widget.kind === 'number' ||
  f.widget.kind === 'text' ||
  f.widget.kind === 'path' ||
  f.widget.kind === 'gpus'

async function formIsThere(page: Page) {
  // Generous: the first load builds the page on a machine shared with other work.
  await expect(page.getByTestId('train-sections')).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('page-error')).toHaveCount(0)
}

async function waitForDraft(page: Page) {
  await expect(page.getByTestId('train-draft-status')).toHaveAttribute('data-state', 'saved', {
    timeout: 15_000,
  })
}

/** Opens every section and the first folder's caption options, so every input is on the page. */
async function openEverything(page: Page) {
  for (const s of FOLDED_SECTIONS) {
    const item = page.getByTestId(`section-${s}`)
    if ((await item.getAttribute('data-active')) === null)
      await page.getByTestId(`section-toggle-${s}`).click()
  }
  await page.getByTestId('subset-options-0').click()
}

test('hostile and random values in every input never break the page, and the draft survives reloads', async ({
  page,
  server,
}) => {
  test.setTimeout(20 * 60_000)
  const seed = Number(process.env.MONKEY_SEED ?? Math.floor(Math.random() * 2 ** 31))
  console.log(`monkey seed: ${seed} (replay with MONKEY_SEED=${seed})`)
  const rand = generator(seed)
  await page.goto(server.url)
  await formIsThere(page)
  // One folder and one sample prompt, so their fields exist; then every section open.
  await page.getByTestId('train-add-folder').click()
  await page.getByTestId('section-toggle-samples').click()
  await page.getByTestId('field-sampling.enabled').check()
  await page.getByTestId('prompt-add').click()
  await page.getByTestId('section-toggle-samples').click()
  await openEverything(page)

  const groups: Array<{ name: string; paths: string[] }> = [
    ...[...new Set(FIELDS.map((f) => f.section))].map((s) => ({
      name: s,
      paths: FIELDS.filter((f) => f.section === s && typed(f)).map((f) => f.path),
    })),
    { name: 'folder', paths: SUBSET_FIELDS.filter(typed).map((f) => `dataset.subsets.0.${f.path}`) },
    { name: 'prompt', paths: PROMPT_FIELDS.filter(typed).map((f) => `sampling.prompts.0.${f.path}`) },
  ].filter((g) => g.paths.length)

  let checked = 0
  for (const group of groups) {
    const last: Record<string, string> = {}
    for (const [i, path] of group.paths.entries()) {
      // CI takes a seeded quarter of each section's fields (always its first): every run a different
      // quarter, each replayable by its seed; MONKEY_FULL=1 types into all of them (about 20 minutes).
      if (!FULL && i > 0 && rand() > 0.25) continue
      const input = page.getByTestId(`field-${path}`)
      // A field that does not apply to the current settings is not on the page (LoKr factor for LoRA).
      if ((await input.count()) === 0) continue
      const randoms = Array.from({ length: FULL ? 3 : 1 }, () => randomValue(rand))
      for (const value of [...HOSTILE, ...randoms]) {
        await input.fill(value)
        await formIsThere(page)
        last[path] = value
        checked++
      }
      // End each field on a plain valid value half of the time, a hostile one otherwise.
      if (rand() < 0.5) {
        const isPath = path.endsWith('_dir') || path.endsWith('base_model') || path.endsWith('vae')
        const valid = isPath ? path.replace(/\W/g, '-').replace(/^/, `${server.dataDir}/`) : '2'
        await input.fill(valid)
        last[path] = valid
      }
    }
    await waitForDraft(page)
    await page.reload()
    await formIsThere(page)
    await openEverything(page)
    for (const [path, value] of Object.entries(last)) {
      // The process count follows the GPU ids typed after it (one process per GPU).
      if (path === 'launch.num_processes' && 'launch.gpu_ids' in last) continue
      const input = page.getByTestId(`field-${path}`)
      if ((await input.count()) === 0) continue
      // The input shows what was typed last (text inputs keep what they were given, minus line breaks).
      await expect(input, `${group.name}: ${path}`).toHaveValue(value.replace(/[\r\n]/g, ''))
    }
  }

  // Extra options: a name and value typed freely, then the value edited.
  await page.getByTestId('extra-new-name').fill('debiased_estimation_loss')
  await page.getByTestId('extra-add').click()
  await page.getByTestId('extra-new-name').fill('ip_noise_gamma')
  await page.getByTestId('extra-new-value').fill('0.1')
  await page.getByTestId('extra-add').click()
  for (const value of [...HOSTILE, randomValue(rand)]) {
    await page.getByTestId('extra-value-ip_noise_gamma').fill(value)
    await formIsThere(page)
  }
  expect(checked).toBeGreaterThan(FULL ? 400 : 100)
})
