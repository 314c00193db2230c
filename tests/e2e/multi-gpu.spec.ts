import { spawnSync } from 'node:child_process'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Page } from '@playwright/test'
import { makeWorld, type TrainingWorld } from '../integration/training-helpers'
import { expect, test } from './fixtures'
import { chooseOption } from './train-page'
import { repoRoot, type RunningServer } from './server'

/*
 * Training on several GPUs from the Train page: the GPU picker lists the stand-in nvidia-smi's two GPUs
 * (RTX 4090 + RTX 3060), both are picked, and Start runs `accelerate launch --multi_gpu --num_processes 2`
 * with CUDA_VISIBLE_DEVICES=0,1. The venv's `accelerate` is a stand-in launcher that records its
 * arguments and runs the (stand-in) training script as one process.
 */

function useExisting(server: RunningServer, w: TrainingWorld) {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(repoRoot, 'electron/cli/main.ts'),
      'env',
      'use-existing',
      w.installDir,
      '--name',
      'standin',
    ],
    { cwd: repoRoot, env: { ...process.env, SDXL_STUDIO_DATA_DIR: server.dataDir }, encoding: 'utf8' },
  )
  expect(r.status, r.stderr).toBeLessThanOrEqual(1)
}

/** `<venv>/bin/accelerate`: writes its arguments to <venv>/accelerate-argv.txt, then runs the script. */
function standinAccelerate(w: TrainingWorld): string {
  const bin = path.dirname(w.venvPython)
  const record = path.join(bin, '..', 'accelerate-argv.txt')
  const launcher = path.join(bin, 'accelerate')
  writeFileSync(
    launcher,
    `#!/bin/sh
printf '%s\\n' "$@" > "${record}"
shift
while [ $# -gt 0 ]; do
  case "$1" in
    --multi_gpu) shift ;;
    --num_processes|--num_machines|--mixed_precision|--dynamo_backend|--num_cpu_threads_per_process|--gpu_ids) shift 2 ;;
    *) break ;;
  esac
done
exec "${w.venvPython}" "$@"
`,
  )
  chmodSync(launcher, 0o755)
  return record
}

async function fillForm(page: Page, w: TrainingWorld) {
  await chooseOption(page, 'train-preset', 'SDXL LoRA · 12 GB')
  await page.getByTestId('field-base_model').fill(w.model)
  await page.getByTestId('train-add-folder').click()
  await page.getByTestId('train-subset-0').getByLabel('Image folder').fill(w.imageDir)
  await page.getByTestId('field-saving.output_dir').fill(w.outputDir)
}

/** The picker is inside the window's width and nothing in it is cut off. */
async function pickerFits(page: Page) {
  const picker = page.getByTestId('gpu-picker')
  await picker.scrollIntoViewIfNeeded()
  const box = (await picker.boundingBox())!
  expect(box.x).toBeGreaterThanOrEqual(0)
  expect(box.x + box.width).toBeLessThanOrEqual(1280)
  const clipped = await picker.evaluate((el) =>
    Array.from(el.querySelectorAll<HTMLElement>('*'))
      .filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
      .filter((e) => !getComputedStyle(e).webkitLineClamp || getComputedStyle(e).webkitLineClamp === 'none')
      .map((e) => e.outerHTML.slice(0, 120)),
  )
  expect(clipped).toEqual([])
}

// The trainer writes its pid here and the stand-in nvidia-smi lists it on GPUs 0 and 1, as one process
// per GPU would be: the Runs page then has memory samples per GPU.
const pidFile = path.join(tmpdir(), `multi-gpu-e2e-pids-${process.pid}-${Date.now()}`)

test.use({
  viewport: { width: 1280, height: 720 },
  serverOptions: {
    env: {
      FAKE_NVIDIA_SMI_SCENARIO: 'two-gpus',
      FAKE_NVIDIA_SMI_PID_FILE: pidFile,
      FAKE_NVIDIA_SMI_PID_GPUS: '0,1',
      FAKE_TRAINER_PID_FILE: pidFile,
      STANDIN_STEPS: '20',
      STANDIN_DELAY: '0.3',
    },
  },
})

test('two stand-in GPUs: pick both, start, and the run is accelerate --multi_gpu --num_processes 2', async ({
  page,
  server,
}) => {
  test.setTimeout(180_000)
  const w = makeWorld('multi-gpu-e2e-')
  const record = standinAccelerate(w)
  useExisting(server, w)
  await page.goto(server.url)
  await fillForm(page, w)
  await page.getByTestId('section-toggle-launch').click()

  const picker = page.getByTestId('gpu-picker')
  await expect(picker.getByTestId('gpu-pick-0')).toContainText('NVIDIA GeForce RTX 4090')
  await expect(picker.getByTestId('gpu-pick-1')).toContainText('NVIDIA GeForce RTX 3060')
  await expect(picker.getByTestId('gpu-pick-1')).toContainText('12.0 GiB')
  await expect(page.getByTestId('gpu-picker-summary')).toContainText('No GPU chosen')
  await pickerFits(page)

  await page.getByTestId('gpu-pick-1-box').check()
  await expect(page.getByTestId('gpu-picker-summary')).toContainText('CUDA_VISIBLE_DEVICES=1')
  await page.getByTestId('gpu-pick-0-box').check()
  await expect(page.getByTestId('gpu-picker-summary')).toContainText(
    '2 GPUs (0,1): accelerate launch --multi_gpu --num_processes 2',
  )
  // The picker wrote the field and one process per GPU.
  await expect(page.getByTestId('field-launch.gpu_ids')).toHaveValue('0,1')
  await expect(page.getByTestId('field-launch.num_processes')).toHaveValue('2')
  await expect(page.getByTestId('train-command')).toContainText('--multi_gpu')
  await expect(page.getByTestId('train-command')).toContainText('--num_processes 2')
  await expect(page.getByTestId('train-valid')).toHaveText('Ready')

  // Typed ids that this machine does not have are named, with the GPUs it has.
  await page.getByTestId('field-launch.gpu_ids').fill('0,5')
  await expect(page.getByTestId('gpu-picker-missing')).toContainText(
    'This machine has no GPU 5 (nvidia-smi lists 0, 1)',
  )
  await page.getByTestId('field-launch.gpu_ids').fill('0,1')
  await expect(page.getByTestId('gpu-picker-missing')).toHaveCount(0)

  await page.getByTestId('train-start').click()
  await expect(page).toHaveURL(/#\/runs$/)
  await expect(page.getByTestId('run-command')).toContainText('--multi_gpu', { timeout: 20_000 })
  await expect(page.getByTestId('run-command')).toContainText('--num_processes 2')
  // Memory per GPU while it trains (the stand-in lists the trainer on both GPUs).
  await expect(page.getByTestId('run-gpu-memory-0')).toContainText('GiB', { timeout: 30_000 })
  await expect(page.getByTestId('run-gpu-memory-1')).toContainText('GiB')
  await expect(page.getByTestId('run-state')).toHaveText(/finished/i, { timeout: 60_000 })

  // What really ran: the launcher's arguments and the environment the trainer saw.
  const argv = readFileSync(record, 'utf8').trim().split('\n')
  expect(argv[0]).toBe('launch')
  expect(argv).toContain('--multi_gpu')
  expect(argv[argv.indexOf('--num_processes') + 1]).toBe('2')
  expect(argv[argv.indexOf('--mixed_precision') + 1]).toBe('bf16')
  expect(argv).not.toContain('--gpu_ids')
  const launch = JSON.parse(readFileSync(path.join(w.outputDir, 'launch.json'), 'utf8')) as {
    env: Record<string, string | null>
  }
  expect(launch.env.CUDA_VISIBLE_DEVICES).toBe('0,1')
})

test('the picker at 1280x720 in Russian; without nvidia-smi it leaves the choice to the text field', async ({
  page,
  server,
}) => {
  await page.goto(server.url)
  await page.getByTestId('nav-settings').click()
  await page.getByTestId('settings-language-ru').click()
  await page.getByTestId('nav-train').click()
  await page.getByTestId('section-toggle-launch').click()
  const picker = page.getByTestId('gpu-picker')
  await expect(picker.getByTestId('gpu-pick-0')).toContainText('Занято')
  await page.getByTestId('gpu-pick-0-box').check()
  await page.getByTestId('gpu-pick-1-box').check()
  await expect(page.getByTestId('gpu-picker-summary')).toContainText('по одному процессу на GPU')
  await pickerFits(page)
  // No English words in the picker's own text (GPU, CUDA and the command are names).
  const text = (await picker.innerText()).replace(
    /NVIDIA GeForce RTX \d+|accelerate launch|--multi_gpu|--num_processes|CUDA_VISIBLE_DEVICES|nvidia-smi|GPU|CUDA/g,
    '',
  )
  expect(text).not.toMatch(/[A-Za-z]{3,}/)
})

test.describe('no nvidia-smi', () => {
  test.use({ serverOptions: { nvidiaSmi: 'none' } })

  test('the picker says so and the typed ids set one process per GPU', async ({ page, server }) => {
    await page.goto(server.url)
    await page.getByTestId('section-toggle-launch').click()
    await expect(page.getByTestId('gpu-picker-no-smi')).toContainText('nvidia-smi was not found')
    await page.getByTestId('field-launch.gpu_ids').fill('0,1')
    await expect(page.getByTestId('field-launch.num_processes')).toHaveValue('2')
    await page.getByTestId('field-launch.gpu_ids').fill('0,0')
    await expect(page.getByTestId('issue-launch.gpu_ids')).toContainText('GPU 0 is listed twice')
    for (const bad of ['-1', 'a', '0,1,', 'ноль', '9'.repeat(300)]) {
      await page.getByTestId('field-launch.gpu_ids').fill(bad)
      await expect(page.getByTestId('field-launch.gpu_ids')).toHaveValue(bad)
      await expect(page.getByTestId('page-error')).toHaveCount(0)
    }
    await page.getByTestId('field-launch.gpu_ids').fill('')
    await expect(page.getByTestId('field-launch.num_processes')).toHaveValue('1')
  })
})
