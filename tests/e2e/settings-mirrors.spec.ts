import { readFileSync } from 'node:fs'
import path from 'node:path'
import { expect, test } from './fixtures'

const readEnvSettings = (dataDir: string) =>
  JSON.parse(readFileSync(path.join(dataDir, 'env-settings.json'), 'utf8')) as {
    source: string | null
    mirrors: { pypiIndex: string | null; torchIndex: string | null; hfEndpoint: string | null }
  }

test('a PyPI mirror saved in Settings persists across a reload and reaches the env settings file', async ({
  page,
  server,
}) => {
  await page.goto(`${server.url}#/settings`)
  const pypi = page.getByTestId('settings-mirrors-pypiIndex')
  await expect(pypi).toHaveValue('')
  await pypi.fill('https://mirror.example.com/pypi/simple')
  await page.getByTestId('settings-mirrors-save').click()
  await expect(page.getByTestId('settings-mirrors-saved')).toBeVisible()

  // Stored by the backend where installs read it (the same file `env settings` changes).
  expect(readEnvSettings(server.dataDir).mirrors.pypiIndex).toBe('https://mirror.example.com/pypi/simple')

  await page.reload()
  await expect(page.getByTestId('settings-mirrors-pypiIndex')).toHaveValue(
    'https://mirror.example.com/pypi/simple',
  )
  await expect(page.getByTestId('settings-mirrors-torchIndex')).toHaveValue('')

  // Reset to defaults clears every value back to null (the defaults).
  await page.getByTestId('settings-mirrors-reset').click()
  await expect(page.getByTestId('settings-mirrors-pypiIndex')).toHaveValue('')
  await expect(page.getByTestId('settings-mirrors-saved')).toBeVisible()
  expect(readEnvSettings(server.dataDir)).toMatchObject({
    source: null,
    mirrors: { pypiIndex: null, torchIndex: null, hfEndpoint: null },
  })
})

test('an invalid URL or a missing source folder shows the server error under that field and saves nothing', async ({
  page,
  server,
}) => {
  await page.goto(`${server.url}#/settings`)
  await page.getByTestId('settings-mirrors-torchIndex').fill('not a url')
  await page.getByTestId('settings-mirrors-save').click()
  const torchError = page.getByTestId('settings-mirrors-torchIndex-error')
  await expect(torchError).toContainText('The torch index is not a web address: "not a url"')
  await expect(page.getByTestId('settings-mirrors-pypiIndex-error')).toHaveCount(0)

  await page.getByTestId('settings-mirrors-torchIndex').fill('ftp://mirror.example.com/whl')
  await page.getByTestId('settings-mirrors-save').click()
  await expect(torchError).toContainText('must start with http:// or https://')

  await page.getByTestId('settings-mirrors-torchIndex').fill('')
  const missing = path.join(server.dataDir, 'no-such-sd-scripts')
  await page.getByTestId('settings-mirrors-source').fill(missing)
  await page.getByTestId('settings-mirrors-save').click()
  await expect(page.getByTestId('settings-mirrors-source-error')).toContainText(
    'neither a git URL nor an existing folder',
  )

  // A rejected save writes nothing; after a reload the form shows the stored (default) values.
  await page.reload()
  await expect(page.getByTestId('settings-mirrors-torchIndex')).toHaveValue('')
  await expect(page.getByTestId('settings-mirrors-source')).toHaveValue('')

  // An existing folder is accepted as the source.
  await page.getByTestId('settings-mirrors-source').fill(server.dataDir)
  await page.getByTestId('settings-mirrors-save').click()
  await expect(page.getByTestId('settings-mirrors-saved')).toBeVisible()
  expect(readEnvSettings(server.dataDir).source).toBe(server.dataDir)
})
