import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { englishWords } from '../helpers/english'
import { expect, test } from './fixtures'

const readEnvSettings = (dataDir: string) =>
  JSON.parse(readFileSync(path.join(dataDir, 'env-settings.json'), 'utf8')) as {
    source: string | null
    mirrors: {
      pypiIndex: string | null
      torchIndex: string | null
      hfEndpoint: string | null
      pythonMirror: string | null
      proxy: string | null
    }
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
    mirrors: { pypiIndex: null, torchIndex: null, hfEndpoint: null, pythonMirror: null, proxy: null },
  })
})

test('a proxy and a mirror with passwords are shown masked, kept user-only, and survive a save of the masked form', async ({
  page,
  server,
}) => {
  await page.goto(`${server.url}#/settings`)
  await page.getByTestId('settings-mirrors-pypiIndex').fill('https://alice:s3cret-pw@pypi.example.com/simple')
  await page.getByTestId('settings-mirrors-proxy').fill('http://bob:hunter2-pw@proxy.example.com:3128')
  await page.getByTestId('settings-mirrors-pythonMirror').fill('https://pbs.example.com/releases')
  await page.getByTestId('settings-mirrors-save').click()
  await expect(page.getByTestId('settings-mirrors-saved')).toBeVisible()
  // What the page shows after saving comes from the server: masked.
  await expect(page.getByTestId('settings-mirrors-proxy')).toHaveValue(
    'http://bob:****@proxy.example.com:3128',
  )

  const file = path.join(server.dataDir, 'env-settings.json')
  expect(statSync(file).mode & 0o777).toBe(0o600)
  expect(readEnvSettings(server.dataDir).mirrors).toMatchObject({
    pypiIndex: 'https://alice:s3cret-pw@pypi.example.com/simple',
    proxy: 'http://bob:hunter2-pw@proxy.example.com:3128',
    pythonMirror: 'https://pbs.example.com/releases',
  })

  await page.reload()
  await expect(page.getByTestId('settings-mirrors-pypiIndex')).toHaveValue(
    'https://alice:****@pypi.example.com/simple',
  )
  expect(await page.content()).not.toMatch(/s3cret-pw|hunter2-pw/)
  // Editing another field and saving sends the masked values back: the passwords stay.
  await page.getByTestId('settings-mirrors-hfEndpoint').fill('https://hf-mirror.example.com')
  await page.getByTestId('settings-mirrors-save').click()
  await expect(page.getByTestId('settings-mirrors-saved')).toBeVisible()
  expect(readEnvSettings(server.dataDir).mirrors).toMatchObject({
    pypiIndex: 'https://alice:s3cret-pw@pypi.example.com/simple',
    proxy: 'http://bob:hunter2-pw@proxy.example.com:3128',
    hfEndpoint: 'https://hf-mirror.example.com',
  })

  // A masked password moved to another host is refused under that field, never reused.
  await page.getByTestId('settings-mirrors-proxy').fill('http://bob:****@other-proxy.example.com:3128')
  await page.getByTestId('settings-mirrors-save').click()
  await expect(page.getByTestId('settings-mirrors-proxy-error')).toContainText('Type the password again')
  expect(readEnvSettings(server.dataDir).mirrors.proxy).toBe('http://bob:hunter2-pw@proxy.example.com:3128')
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
  await expect(torchError).toContainText('must start with http://, https:// or file://')

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

test('in Russian, a bad address for each mirror and a bad source are refused under their field, with no English', async ({
  page,
  server,
}) => {
  writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ language: 'ru' }))
  await page.goto(`${server.url}#/settings`)
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru')
  const missing = path.join(server.dataDir, 'нет-такой-папки')
  const cases: Array<[string, string, string]> = [
    ['pypiIndex', 'pypi.example.com/simple', 'Поле «Индекс PyPI»: «pypi.example.com/simple» — не веб-адрес.'],
    [
      'torchIndex',
      'ftp://mirror.example.com/whl',
      'Поле «Индекс torch»: адрес должен начинаться с «http://»',
    ],
    ['hfEndpoint', 'https://hf.example.com/a b', 'Поле «Адрес Hugging Face» содержит пробел'],
    ['pythonMirror', 'зеркало', 'Поле «Зеркало загрузки Python»: «зеркало» — не веб-адрес.'],
    ['proxy', 'socks5://bob:hunter2-pw@proxy.example.com:1080', 'Поле «Прокси»: адрес должен начинаться'],
    ['source', '--upload-pack=touch pwned', 'начинается с «-», и git прочтёт его как параметр'],
    ['source', 'ext::sh -c id', 'использует «ext», а это запрещено'],
    ['source', missing, 'не git-адрес и не существующая папка'],
  ]
  let previous: string | null = null
  for (const [field, value, russian] of cases) {
    // One bad value at a time: the one typed before is cleared.
    if (previous && previous !== field) await page.getByTestId(`settings-mirrors-${previous}`).fill('')
    previous = field
    await page.getByTestId(`settings-mirrors-${field}`).fill(value)
    await page.getByTestId('settings-mirrors-save').click()
    const error = page.getByTestId(`settings-mirrors-${field}-error`)
    await expect(error).toContainText(russian)
    const text = await error.innerText()
    // The value typed (its password masked) is quoted as it is; every other word is Russian.
    const shown = value.replace('hunter2-pw', '****')
    expect(englishWords(text, { value, shown, example: 'https://mirror.example.com/simple' }), text).toEqual(
      [],
    )
    await expect(page.getByTestId('settings-mirrors-error')).toHaveCount(0)
  }
  expect(await page.content()).not.toContain('hunter2-pw')
  // Nothing was saved.
  expect(existsSync(path.join(server.dataDir, 'env-settings.json'))).toBe(false)
})

for (const language of ['en', 'ru'] as const) {
  test(`a local wheel folder (file://) is saved when it exists and refused when it does not (${language})`, async ({
    page,
    server,
  }) => {
    if (language === 'ru') {
      writeFileSync(path.join(server.dataDir, 'settings.json'), JSON.stringify({ language: 'ru' }))
    }
    // The folder is on the machine that runs the installs: here, the headless server's.
    const wheels = path.join(server.dataDir, 'колёса', 'simple')
    mkdirSync(path.join(wheels, 'torch'), { recursive: true })
    const missing = path.join(server.dataDir, 'нет-колёс', 'simple')
    // A laptop's screen: the long refusal wraps under its field, nothing is pushed sideways.
    await page.setViewportSize({ width: 1280, height: 720 })
    await page.goto(`${server.url}#/settings`)
    await expect(page.locator('html')).toHaveAttribute('lang', language)
    const pypi = page.getByTestId('settings-mirrors-pypiIndex')
    const error = page.getByTestId('settings-mirrors-pypiIndex-error')

    await pypi.fill(`file://${missing}`)
    await page.getByTestId('settings-mirrors-save').click()
    await expect(error).toContainText(
      language === 'en'
        ? `The PyPI index folder does not exist: ${missing}`
        : `Поле «Индекс PyPI»: папки нет: ${missing}`,
    )
    await expect(error).toContainText(language === 'en' ? 'the GPU server, not this computer' : 'GPU-сервер')
    if (language === 'ru') {
      const text = await error.innerText()
      expect(englishWords(text, { value: `file://${missing}`, path: missing }), text).toEqual([])
    }
    expect(existsSync(path.join(server.dataDir, 'env-settings.json'))).toBe(false)
    for (const box of [
      await error.boundingBox(),
      await page.getByTestId('settings-mirrors-save').boundingBox(),
    ])
      expect(box!.x + box!.width).toBeLessThanOrEqual(1280)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280)

    // A folder path typed without file:// gets the address to write.
    await pypi.fill(wheels)
    await page.getByTestId('settings-mirrors-save').click()
    await expect(error).toContainText(`file://${wheels}`)

    await pypi.fill(`file://${wheels}`)
    await page.getByTestId('settings-mirrors-save').click()
    await expect(page.getByTestId('settings-mirrors-saved')).toBeVisible()
    await expect(error).toHaveCount(0)
    expect(readEnvSettings(server.dataDir).mirrors.pypiIndex).toBe(`file://${wheels}`)
    await page.reload()
    await expect(page.getByTestId('settings-mirrors-pypiIndex')).toHaveValue(`file://${wheels}`)
  })
}
