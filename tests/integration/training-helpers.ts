import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeSdxlCheckpoint } from '../helpers/safetensors'
import { standinTorchIndex } from './env-helpers'

/*
 * A world for train.start with real processes: an sd-scripts stand-in folder whose training scripts
 * wrap the stand-in trainer (tests/fixtures/trainer/fake_sd_scripts.py), a real venv, a dataset folder
 * with PNGs and captions, and a model file with an SDXL-shaped safetensors header.
 */

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const trainer = path.join(repoRoot, 'tests/fixtures/trainer/fake_sd_scripts.py')

/**
 * Each script reads what train.start wrote (--config_file / --dataset_config, as sd-scripts does),
 * writes what it saw to <output_dir>/launch.json, then trains with the stand-in for a few steps.
 * Importing it (as verify does) runs nothing, like sd-scripts' own scripts.
 */
function wrapper(script: string): string {
  return `import json, os, runpy, sys, tomllib

FAKE = ${JSON.stringify(trainer)}


def main():
    argv = sys.argv[1:]

    def value(name):
        return argv[argv.index(name) + 1]

    with open(value("--config_file"), "rb") as f:
        cfg = tomllib.load(f)
    with open(value("--dataset_config"), "rb") as f:
        ds = tomllib.load(f)
    out = cfg["output_dir"]
    os.makedirs(out, exist_ok=True)
    keys = ["CUDA_VISIBLE_DEVICES", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "OMP_NUM_THREADS", "HF_HOME",
            "PYTHONUTF8", "PYTHONIOENCODING", "PYTHONUNBUFFERED"]
    with open(os.path.join(out, "launch.json"), "w", encoding="utf-8") as f:
        json.dump({"script": ${JSON.stringify(script)}, "argv": argv, "executable": sys.executable, "cwd": os.getcwd(),
                   "env": {k: os.environ.get(k) for k in keys}, "config": cfg, "dataset": ds}, f)
    # STANDIN_STEPS / STANDIN_DELAY make a longer run (a busy queue in the browser test).
    sys.argv = [FAKE, "--steps", os.environ.get("STANDIN_STEPS", "3"), "--epochs", "1",
                "--delay", os.environ.get("STANDIN_DELAY", "0"), "--output_dir", out,
                "--output_name", cfg.get("output_name", "last")]
    runpy.run_path(FAKE, run_name="__main__")


# Importing the script (as verify does) trains nothing, like sd-scripts' own scripts.
if __name__ == "__main__":
    main()
`
}

// A 1×1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
)

/**
 * Installs the stand-in torch 2.6.0 / torchvision 0.21.0 (tests/fixtures/torch-standin, PyPI layout,
 * CUDA 12.4 build, no devices) into a venv without pip: a wheel is a zip of the site-packages files.
 */
export function addStandinTorch(venvPython: string): void {
  const index = fileURLToPath(standinTorchIndex())
  const site = execFileSync(venvPython, ['-c', "import sysconfig; print(sysconfig.get_paths()['purelib'])"], {
    encoding: 'utf8',
  }).trim()
  for (const [project, file] of [
    ['torch', 'torch-2.6.0-py3-none-any.whl'],
    ['torchvision', 'torchvision-0.21.0-py3-none-any.whl'],
  ] as const)
    execFileSync(venvPython, ['-m', 'zipfile', '-e', path.join(index, project, file), site])
  // The presets' AdamW8bit needs bitsandbytes; verify reads its version from the metadata.
  const info = path.join(site, 'bitsandbytes-0.45.0.dist-info')
  mkdirSync(info, { recursive: true })
  writeFileSync(path.join(info, 'METADATA'), 'Metadata-Version: 2.1\nName: bitsandbytes\nVersion: 0.45.0\n')
  mkdirSync(path.join(site, 'bitsandbytes'), { recursive: true })
  writeFileSync(
    path.join(site, 'bitsandbytes', '__init__.py'),
    '# Stand-in: metadata only (a test fixture).\n',
  )
}

export interface TrainingWorld {
  root: string
  dataDir: string
  /** The folder given to env.useExisting (holds sd-scripts/ and venv/). */
  installDir: string
  sdScripts: string
  venvPython: string
  model: string
  imageDir: string
  outputDir: string
}

export function makeWorld(prefix = 'training-'): TrainingWorld {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix))
  const installDir = path.join(root, 'install')
  const sdScripts = path.join(installDir, 'sd-scripts')
  mkdirSync(path.join(sdScripts, 'library'), { recursive: true })
  writeFileSync(path.join(sdScripts, 'sdxl_train_network.py'), wrapper('sdxl_train_network.py'))
  writeFileSync(path.join(sdScripts, 'sdxl_train.py'), wrapper('sdxl_train.py'))
  // A real venv (no pip: fast); env.useExisting finds install/venv. It gets a stand-in torch and
  // torchvision (as a user's install has the real ones), so it verifies and runs may start on it.
  execFileSync('python3', ['-m', 'venv', '--without-pip', path.join(installDir, 'venv')])
  addStandinTorch(path.join(installDir, 'venv', 'bin', 'python'))
  writeFileSync(path.join(sdScripts, 'requirements.txt'), '# the stand-in needs nothing from PyPI\n')
  const imageDir = path.join(root, 'dataset', '10_cat')
  mkdirSync(imageDir, { recursive: true })
  for (const n of [1, 2, 3]) {
    writeFileSync(path.join(imageDir, `cat${n}.png`), PNG)
    writeFileSync(path.join(imageDir, `cat${n}.txt`), `a photo of a cat, number ${n}\n`)
  }
  const model = path.join(root, 'models', 'sdxl.safetensors')
  mkdirSync(path.dirname(model), { recursive: true })
  writeSdxlCheckpoint(model)
  return {
    root,
    dataDir: path.join(root, 'data'),
    installDir,
    sdScripts,
    venvPython: path.join(installDir, 'venv', 'bin', 'python'),
    model,
    imageDir,
    outputDir: path.join(root, 'out'),
  }
}

/** A preset's config with this world's files filled in. */
export function withFiles(
  config: Record<string, unknown>,
  w: TrainingWorld,
  name = 'cat',
): Record<string, unknown> {
  return {
    ...config,
    base_model: w.model,
    dataset: {
      ...(config.dataset as object),
      subsets: [{ image_dir: w.imageDir, num_repeats: 10, class_tokens: 'cat' }],
    },
    saving: { ...(config.saving as object), output_dir: w.outputDir, output_name: name },
  }
}
