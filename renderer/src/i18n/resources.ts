// Each namespace is one JSON file per language; a page owns its namespace.
import enCommon from './locales/en/common.json'
import ruCommon from './locales/ru/common.json'
import enGpu from './locales/en/gpu.json'
import ruGpu from './locales/ru/gpu.json'
import enSettings from './locales/en/settings.json'
import ruSettings from './locales/ru/settings.json'
import enEnv from './locales/en/env.json'
import ruEnv from './locales/ru/env.json'
import enTrain from './locales/en/train.json'
import ruTrain from './locales/ru/train.json'
import enRuns from './locales/en/runs.json'
import ruRuns from './locales/ru/runs.json'
import enVram from './locales/en/vram.json'
import ruVram from './locales/ru/vram.json'

export const resources = {
  en: {
    common: enCommon,
    gpu: enGpu,
    settings: enSettings,
    env: enEnv,
    train: enTrain,
    runs: enRuns,
    vram: enVram,
  },
  ru: {
    common: ruCommon,
    gpu: ruGpu,
    settings: ruSettings,
    env: ruEnv,
    train: ruTrain,
    runs: ruRuns,
    vram: ruVram,
  },
} as const

export const namespaces = Object.keys(resources.en) as Array<keyof typeof resources.en>
