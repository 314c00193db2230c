// Each namespace is one JSON file per language; a page owns its namespace. English ships in the
// initial bundle (it is also the fallback); other languages load on demand (resources-ru.ts).
import type { Language } from '../../../core/api/domains/app'
import enCommon from './locales/en/common.json'
import enGpu from './locales/en/gpu.json'
import enSettings from './locales/en/settings.json'
import enEnv from './locales/en/env.json'
import enTrain from './locales/en/train.json'
import enRuns from './locales/en/runs.json'
import enVram from './locales/en/vram.json'
import enLora from './locales/en/lora.json'
import enTensorboard from './locales/en/tensorboard.json'
import enDataset from './locales/en/dataset.json'

export const en = {
  common: enCommon,
  gpu: enGpu,
  settings: enSettings,
  env: enEnv,
  train: enTrain,
  runs: enRuns,
  vram: enVram,
  lora: enLora,
  tensorboard: enTensorboard,
  dataset: enDataset,
}

export type Namespace = keyof typeof en
/** One language's strings: every namespace English has. */
export type LanguageResources = Record<Namespace, object>

export const namespaces = Object.keys(en) as Namespace[]

export const loadResources: Record<Language, () => Promise<LanguageResources>> = {
  en: () => Promise.resolve(en),
  ru: () => import('./resources-ru').then((m) => m.ru),
}
