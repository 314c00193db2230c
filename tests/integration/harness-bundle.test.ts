import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  MIB,
  copyEntries,
  formatSizeTable,
  hashExport,
  materializeJobs,
  orderPresets,
  readPlan,
  selectSdScriptsFiles,
  sizeRows,
  type Plan,
} from '../../scripts/harness/bundle-lib'

const repoRoot = path.resolve(import.meta.dirname, '../..')
const temps: string[] = []
function temp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'harness-bundle-'))
  temps.push(d)
  return d
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true })
})

function put(root: string, rel: string, bytes: number): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
  writeFileSync(path.join(root, rel), 'x'.repeat(bytes))
}

/** A fake source tree shaped like sd-scripts (not sd-scripts itself). */
function fakeSdScripts(): string {
  const root = temp()
  put(root, 'sdxl_train_network.py', 100)
  put(root, 'sdxl_train.py', 200)
  put(root, 'train_network.py', 300)
  put(root, 'flux_train.py', 5000)
  put(root, 'requirements.txt', 10)
  put(root, 'README.md', 7000)
  put(root, 'library/train_util.py', 400)
  put(root, 'library/__pycache__/train_util.cpython-311.pyc', 900)
  put(root, 'networks/lora.py', 50)
  put(root, 'docs/big.md', 9000)
  put(root, 'bitsandbytes_windows/lib.dll', 9000)
  return root
}

describe('bundle file selection', () => {
  it('takes the SDXL scripts, library/ and networks/, and leaves docs, other models and caches behind', () => {
    const root = fakeSdScripts()
    const files = selectSdScriptsFiles(root)
    expect(files.map((f) => f.rel).sort()).toEqual([
      'library/train_util.py',
      'networks/lora.py',
      'requirements.txt',
      'sdxl_train.py',
      'sdxl_train_network.py',
      'train_network.py',
    ])
    expect(files.reduce((s, f) => s + f.bytes, 0)).toBe(100 + 200 + 300 + 10 + 400 + 50)
  })

  it('names the missing file when the folder is not sd-scripts', () => {
    const root = temp()
    put(root, 'sdxl_train.py', 1)
    expect(() => selectSdScriptsFiles(root)).toThrow(/sdxl_train_network\.py is missing/)
  })

  it('copies the selection and fingerprints the contents', () => {
    const root = fakeSdScripts()
    const files = selectSdScriptsFiles(root)
    const a = copyEntries(root, files, path.join(temp(), 'a'))
    const destB = path.join(temp(), 'b')
    const b = copyEntries(root, files, destB)
    expect(a).toBe(b)
    expect(existsSync(path.join(destB, 'library/train_util.py'))).toBe(true)
    expect(existsSync(path.join(destB, 'docs'))).toBe(false)
    writeFileSync(path.join(root, 'networks/lora.py'), 'changed')
    expect(copyEntries(root, files, path.join(temp(), 'c'))).not.toBe(a)
  })
})

describe('bundle size accounting', () => {
  it('sums every part and refuses a total over the limit', () => {
    const root = temp()
    put(root, 'wheels/a.whl', 3 * MIB)
    put(root, 'wheels/b.whl', MIB)
    put(root, 'tokenizers/x/vocab.json', MIB / 2)
    const rows = sizeRows(root, ['wheels', 'tokenizers', 'absent'])
    expect(rows).toEqual([
      { part: 'wheels', files: 2, bytes: 4 * MIB },
      { part: 'tokenizers', files: 1, bytes: MIB / 2 },
      { part: 'absent', files: 0, bytes: 0 },
    ])
    const tree = { part: 'repository working tree', files: 10, bytes: MIB / 2 }
    const ok = formatSizeTable(rows, [tree], 5 * MIB)
    expect(ok.total).toBe(5 * MIB)
    expect(ok.fits).toBe(true)
    expect(ok.text).toMatch(/wheels\s+2 files\s+4\.00 MiB/)
    expect(ok.text).toMatch(/total\s+5\.00 MiB of 5 MiB/)
    expect(formatSizeTable(rows, [tree], 5 * MIB - 1).fits).toBe(false)
  })
})

describe('measurement plan', () => {
  it('the committed plan parses, has at least 8 jobs on hand-made bases, and every base exists', () => {
    const plan = readPlan(path.join(repoRoot, 'resources/harness/plan.json'))
    const own = plan.jobs.filter((j) => !j.base.startsWith('preset:'))
    expect(own.length).toBeGreaterThanOrEqual(8)
    for (const j of own) {
      expect(existsSync(path.join(repoRoot, 'resources/harness/configs', j.base, 'config.toml'))).toBe(true)
      expect(existsSync(path.join(repoRoot, 'resources/harness/configs', j.base, 'dataset.toml'))).toBe(true)
    }
  })

  it('puts 8 GB and 12 GB presets first', () => {
    const p = (id: string) => ({ id, dir: '', hash: '' })
    expect(
      orderPresets([p('lora-24gb'), p('lora-12gb'), p('dreambooth-48gb'), p('loha-8gb'), p('lora-8gb')]).map(
        (x) => x.id,
      ),
    ).toEqual(['loha-8gb', 'lora-8gb', 'lora-12gb', 'dreambooth-48gb', 'lora-24gb'])
  })

  function fakeConfigs(): string {
    const configs = temp()
    put(configs, 'base/config.toml', 10)
    put(configs, 'base/dataset.toml', 10)
    return configs
  }

  const plan: Plan = {
    version: 1,
    jobs: [
      {
        id: 'one',
        base: 'base',
        question: 'q1',
        config: { fp8_base: true },
        dataset: { batch_size: 2 },
        drop: [],
      },
      { id: 'all', base: 'preset:*', question: 'presets', config: {}, dataset: {}, drop: [] },
    ],
  }

  it('writes job folders in plan order with their overrides and the preset reference', () => {
    const configs = fakeConfigs()
    const presetDir = temp()
    put(presetDir, 'config.toml', 5)
    put(presetDir, 'dataset.toml', 5)
    writeFileSync(
      path.join(presetDir, 'command.txt'),
      'accelerate launch sdxl_train.py --config_file config.toml',
    )
    const hash = hashExport(presetDir)
    writeFileSync(
      path.join(presetDir, 'command.txt'),
      'accelerate launch sdxl_train.py --config_file /elsewhere/config.toml',
    )
    expect(hashExport(presetDir)).toBe(hash) // where it was exported does not change the reference
    const out = temp()
    const r = materializeJobs(
      plan,
      configs,
      [{ id: 'db-12gb', dir: presetDir, hash }],
      { one: { peak_gib: 9.1 } },
      out,
    )
    expect(r.ids).toEqual(['one', 'preset-db-12gb'])
    expect(readFileSync(path.join(out, 'order.txt'), 'utf8')).toBe('one\npreset-db-12gb\n')
    const one = JSON.parse(readFileSync(path.join(out, 'one/job.json'), 'utf8'))
    expect(one).toMatchObject({
      id: 'one',
      config: { fp8_base: true },
      dataset: { batch_size: 2 },
      prediction: { peak_gib: 9.1 },
    })
    const preset = JSON.parse(readFileSync(path.join(out, 'preset-db-12gb/job.json'), 'utf8'))
    expect(preset).toMatchObject({ preset_id: 'db-12gb', preset_hash: hash, prediction: null })
    expect(existsSync(path.join(out, 'preset-db-12gb/command.txt'))).toBe(true)
  })

  it('expands preset patterns once each: a narrow entry first, the rest later', () => {
    const presetDir = temp()
    put(presetDir, 'config.toml', 5)
    put(presetDir, 'dataset.toml', 5)
    const presets = ['lora-24gb', 'lora-8gb', 'loha-12gb', 'dreambooth-16gb'].map((id) => ({
      id,
      dir: presetDir,
      hash: 'h',
    }))
    const twoStep: Plan = {
      version: 1,
      jobs: [
        { id: 'small', base: 'preset:*-8gb,*-12gb', question: '', config: {}, dataset: {}, drop: [] },
        { id: 'one', base: 'base', question: '', config: {}, dataset: {}, drop: [] },
        { id: 'rest', base: 'preset:*', question: '', config: {}, dataset: {}, drop: [] },
        { id: 'none', base: 'preset:nothing-*', question: '', config: {}, dataset: {}, drop: [] },
      ],
    }
    const r = materializeJobs(twoStep, fakeConfigs(), presets, {}, temp())
    expect(r.ids).toEqual([
      'preset-lora-8gb',
      'preset-loha-12gb',
      'one',
      'preset-dreambooth-16gb',
      'preset-lora-24gb',
    ])
    expect(r.notes).toEqual(['none: no exported preset (not yet in the plan) matches preset:nothing-*'])
  })

  it('notes the skipped preset jobs when no presets could be exported', () => {
    const out = temp()
    const r = materializeJobs(plan, fakeConfigs(), null, {}, out)
    expect(r.ids).toEqual(['one'])
    expect(r.notes.join('\n')).toMatch(/presets are not available/)
  })

  it('refuses a base folder without the two files', () => {
    const configs = temp()
    put(configs, 'base/config.toml', 10)
    expect(() => materializeJobs(plan, configs, null, {}, temp())).toThrow(/dataset\.toml is missing/)
  })
})
