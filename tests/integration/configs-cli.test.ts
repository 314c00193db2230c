import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'smol-toml'
import { describe, expect, it } from 'vitest'

const repoRoot = path.resolve(import.meta.dirname, '../..')
const tsx = path.join(repoRoot, 'node_modules', '.bin', process.platform === 'win32' ? 'tsx.cmd' : 'tsx')

/** Runs the real CLI in a child process, as `npm run -s cli -- ...` does. */
function cli(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      tsx,
      [path.join(repoRoot, 'electron/cli/main.ts'), ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, SDXL_STUDIO_DATA_DIR: dataDir },
        shell: process.platform === 'win32',
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    )
  })
}

// Each call starts tsx, which compiles the CLI afresh: slow on a busy machine.
describe('configs CLI', { timeout: 120_000 }, () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'sdxl-configs-cli-'))
  const data = path.join(tmp, 'data')

  it('preset list --json gives id, type and vram_tier_gb for every preset', async () => {
    const r = await cli(['preset', 'list', '--json'], data)
    expect(r.code).toBe(0)
    const list = JSON.parse(r.stdout) as Array<{ id: string; type: string; vram_tier_gb: number }>
    expect(list.length).toBeGreaterThanOrEqual(10)
    for (const p of list) {
      expect(['dreambooth', 'lora', 'locon', 'loha', 'lokr']).toContain(p.type)
      expect([8, 12, 16, 24]).toContain(p.vram_tier_gb)
      expect(p.id).toMatch(/^[a-z0-9-]+$/)
    }
  })

  it('preset export writes the files with marked placeholders', async () => {
    const out = path.join(tmp, 'preset-out')
    const r = await cli(['preset', 'export', 'dreambooth-16gb', '--out', out, '--flavor', 'posix'], data)
    expect(r.code).toBe(0)
    const command = readFileSync(path.join(out, 'command.txt'), 'utf8')
    expect(command).toContain('sdxl_train.py')
    expect(command).toContain(`--config_file ${path.join(out, 'config.toml')}`)
    const cfg = parse(readFileSync(path.join(out, 'config.toml'), 'utf8'))
    expect(cfg.pretrained_model_name_or_path).toMatch(/^<<SET: /)
    expect(readFileSync(path.join(out, 'dataset.toml'), 'utf8')).toContain(
      '<<SET: folder with the training images>>',
    )
    expect(existsSync(path.join(out, 'prompts.txt'))).toBe(false)
    expect(r.stdout).toContain('Replace these placeholders')
    const missing = await cli(['preset', 'export', 'no-such-preset', '--out', out], data)
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toMatch(/No preset with id "no-such-preset"/)
  })

  it('config validate / export / import-kohya', async () => {
    const good = path.join(tmp, 'good.json')
    writeFileSync(
      good,
      JSON.stringify({
        type: 'locon',
        base_model: 'stabilityai/stable-diffusion-xl-base-1.0',
        dataset: { subsets: [{ image_dir: '/data/10_cat', num_repeats: 10 }] },
        training: { max_train_epochs: 2 },
        optimizer: { type: 'AdamW' },
        sampling: {
          enabled: true,
          every_n_epochs: 1,
          prompts: [{ prompt: 'a cat', width: 1024, height: 1024 }],
        },
        saving: { output_dir: tmp, output_name: 'cat' },
      }),
    )
    const ok = await cli(['config', 'validate', good, '--no-files'], data)
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('Valid.')

    const bad = path.join(tmp, 'bad.json')
    writeFileSync(
      bad,
      JSON.stringify({
        ...JSON.parse(readFileSync(good, 'utf8')),
        memory: { fp8_base: true, mixed_precision: 'no' },
        extra_args: { blocks_to_swap: 4 },
      }),
    )
    const no = await cli(['config', 'validate', bad, '--no-files'], data)
    expect(no.code).toBe(1)
    expect(no.stderr).toMatch(/fp8\.needs_mixed_precision/)
    expect(no.stderr).toMatch(/blocks_to_swap/)

    const out = path.join(tmp, 'export')
    const ex = await cli(
      ['config', 'export', good, '--out', out, '--sd-scripts', '/opt/sd-scripts', '--flavor', 'posix'],
      data,
    )
    expect(ex.code).toBe(0)
    expect(readFileSync(path.join(out, 'command.txt'), 'utf8')).toContain(
      '/opt/sd-scripts/sdxl_train_network.py',
    )
    expect(readFileSync(path.join(out, 'prompts.txt'), 'utf8')).toBe('a cat --w 1024 --h 1024\n')
    expect(parse(readFileSync(path.join(out, 'config.toml'), 'utf8')).network_args).toEqual([
      'conv_dim=32',
      'conv_alpha=16',
    ])

    const kohya = path.join(repoRoot, 'tests/fixtures/kohya/lycoris-locon-strings.json')
    const target = path.join(tmp, 'imported.json')
    const imp = await cli(['config', 'import-kohya', kohya, '--out', target], data)
    expect(imp.code).toBe(0)
    expect(imp.stdout).toMatch(/my_custom_field/)
    expect(JSON.parse(readFileSync(target, 'utf8'))).toMatchObject({
      type: 'locon',
      network: { dim: 32, conv_dim: 16 },
      // Its additional parameters are offered, not taken.
      extra_args: {},
    })
    expect(imp.stdout).toMatch(/NOT added[\s\S]*vae_batch_size = "4"/)
  })

  it('import-kohya adds extra options only with --accept / --accept-all-extras', async () => {
    const file = path.join(tmp, 'risky.json')
    writeFileSync(
      file,
      JSON.stringify({
        LoRA_type: 'Standard',
        network_dim: 8,
        additional_parameters: '--console_log_file /tmp/x.log --debiased_estimation_loss',
      }),
    )
    const target = path.join(tmp, 'risky-out.json')
    const all = await cli(['config', 'import-kohya', file, '--out', target, '--accept-all-extras'], data)
    expect(all.code).toBe(0)
    // "All" takes the plain option; the one that writes a file needs its name.
    expect(JSON.parse(readFileSync(target, 'utf8')).extra_args).toEqual({ debiased_estimation_loss: true })
    expect(all.stdout).toMatch(/console_log_file = "\/tmp\/x\.log"\s+\[WRITES A FILE\]/)
    const named = await cli(
      ['config', 'import-kohya', file, '--out', target, '--accept', 'console_log_file'],
      data,
    )
    expect(named.code).toBe(0)
    expect(JSON.parse(readFileSync(target, 'utf8')).extra_args).toEqual({ console_log_file: '/tmp/x.log' })
    const typo = await cli(['config', 'import-kohya', file, '--out', target, '--accept', 'console_log'], data)
    expect(typo.code).not.toBe(0)
    expect(typo.stderr).toMatch(/console_log\b.*Offered: console_log_file, debiased_estimation_loss/)
  }, 120_000)

  it('import-toml reads back what config export wrote', async () => {
    const source = {
      type: 'lokr',
      base_model: '/m/sd_xl_base_1.0.safetensors',
      dataset: { subsets: [{ image_dir: '/data/10_cat', num_repeats: 10, class_tokens: 'cat' }] },
      network: { dim: 64, alpha: 32, factor: 8 },
      training: { max_train_epochs: 3 },
      sampling: {
        enabled: true,
        every_n_epochs: 1,
        prompts: [{ prompt: 'a cat', width: 1024, height: 1024 }],
      },
      saving: { output_dir: '/out', output_name: 'cat' },
      extra_args: { ip_noise_gamma: 0.1 },
    }
    const json = path.join(tmp, 'lokr.json')
    writeFileSync(json, JSON.stringify(source))
    const dir = path.join(tmp, 'lokr-files')
    expect((await cli(['config', 'export', json, '--out', dir, '--flavor', 'posix'], data)).code).toBe(0)
    const target = path.join(tmp, 'lokr-back.json')
    const r = await cli(
      [
        'config',
        'import-toml',
        path.join(dir, 'config.toml'),
        '--dataset',
        path.join(dir, 'dataset.toml'),
        '--prompts',
        path.join(dir, 'prompts.txt'),
        '--out',
        target,
        '--accept-all-extras',
        '--json',
      ],
      data,
    )
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'lokr', accepted: ['ip_noise_gamma'], unmapped: [] })
    const back = JSON.parse(readFileSync(target, 'utf8')) as Record<string, unknown>
    expect(back).toMatchObject(source)
    const missing = await cli(['config', 'import-toml', path.join(tmp, 'nope.toml'), '--out', target], data)
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toMatch(/config\.toml not found: .*nope\.toml/)
  }, 120_000)
})
