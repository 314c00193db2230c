// Russian strings, loaded only when Russian is chosen. Same namespaces as English (resources.ts).
import type { LanguageResources } from './resources'
import ruCommon from './locales/ru/common.json'
import ruGpu from './locales/ru/gpu.json'
import ruSettings from './locales/ru/settings.json'
import ruEnv from './locales/ru/env.json'
import ruTrain from './locales/ru/train.json'
import ruRuns from './locales/ru/runs.json'
import ruVram from './locales/ru/vram.json'
import ruLora from './locales/ru/lora.json'
import ruTensorboard from './locales/ru/tensorboard.json'
import ruDataset from './locales/ru/dataset.json'

export const ru = {
  common: ruCommon,
  gpu: ruGpu,
  settings: ruSettings,
  env: ruEnv,
  train: ruTrain,
  runs: ruRuns,
  vram: ruVram,
  lora: ruLora,
  tensorboard: ruTensorboard,
  dataset: ruDataset,
} satisfies LanguageResources
