import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { ApiError } from '../../../core/api/errors'
import { BUILTIN_PRESETS, builtinPreset, presetFromFile, type Preset } from '../../../core/config/presets'
import type { TrainingConfig } from '../../../core/config/schema'
import { writeJsonAtomic } from '../store/atomic'
import { removeWithRetry } from '../store/fs-retry'
import { readRegularFile } from '../store/regular-file'

/**
 * User presets: one JSON file per preset in <data dir>/presets/, written atomically, in the same
 * shape as the built-in ones. A damaged file is skipped (and named) rather than hiding all presets.
 */
export class PresetStore {
  readonly dir: string
  /** Files that could not be read at the last list(), for diagnostics. */
  broken: string[] = []

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'presets')
  }

  private file(id: string): string {
    if (!/^user-[a-z0-9-]+$/.test(id)) throw new ApiError('not_found', `No user preset with id "${id}".`)
    return path.join(this.dir, `${id}.json`)
  }

  async listUser(): Promise<Preset[]> {
    let names: string[]
    try {
      names = await fs.readdir(this.dir)
    } catch {
      return []
    }
    const out: Preset[] = []
    this.broken = []
    for (const name of names.filter((n) => /^user-[a-z0-9-]+\.json$/.test(n)).sort()) {
      try {
        out.push(
          presetFromFile(
            JSON.parse((await readRegularFile(path.join(this.dir, name))).toString('utf8')),
            false,
          ),
        )
      } catch {
        this.broken.push(path.join(this.dir, name))
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name))
  }

  async list(): Promise<Preset[]> {
    return [...BUILTIN_PRESETS, ...(await this.listUser())]
  }

  async get(id: string): Promise<Preset> {
    const b = builtinPreset(id)
    if (b) return b
    let raw: string
    try {
      raw = (await readRegularFile(this.file(id))).toString('utf8')
    } catch {
      throw new ApiError('not_found', `No preset with id "${id}". List them with: preset list`)
    }
    try {
      return presetFromFile(JSON.parse(raw), false)
    } catch (error) {
      throw new ApiError(
        'domain',
        `Preset file ${this.file(id)} is damaged: ${(error as Error).message}. Fix or delete it.`,
      )
    }
  }

  private newId(name: string): string {
    const slug = name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40)
    return `user-${slug || 'preset'}-${randomBytes(3).toString('hex')}`
  }

  private async write(p: Preset): Promise<Preset> {
    const file = {
      id: p.id,
      name: p.name,
      type: p.config.type,
      vram_tier_gb: p.vram_tier_gb,
      rationale: p.rationale,
      config: p.config,
    }
    await writeJsonAtomic(this.file(p.id), file)
    return { ...p, type: p.config.type, builtin: false }
  }

  async save(input: {
    id?: string
    name: string
    config: TrainingConfig
    vram_tier_gb?: number | null
    rationale?: string
  }): Promise<Preset> {
    if (input.id && builtinPreset(input.id))
      throw new ApiError(
        'conflict',
        `Built-in preset "${input.id}" cannot be changed; save it under a new name.`,
      )
    const existing = input.id ? await this.get(input.id) : null
    return this.write({
      id: existing?.id ?? this.newId(input.name),
      name: input.name,
      type: input.config.type,
      vram_tier_gb: input.vram_tier_gb ?? existing?.vram_tier_gb ?? null,
      rationale: input.rationale ?? existing?.rationale ?? '',
      builtin: false,
      config: input.config,
    })
  }

  async rename(id: string, name: string): Promise<Preset> {
    if (builtinPreset(id))
      throw new ApiError('conflict', `Built-in preset "${id}" cannot be renamed; duplicate it first.`)
    const p = await this.get(id)
    return this.write({ ...p, name })
  }

  async remove(id: string): Promise<void> {
    if (builtinPreset(id)) throw new ApiError('conflict', `Built-in preset "${id}" cannot be deleted.`)
    await this.get(id)
    await removeWithRetry(this.file(id))
  }

  async duplicate(id: string, name?: string): Promise<Preset> {
    const p = await this.get(id)
    const newName = name ?? `${p.name} (copy)`
    return this.write({ ...p, id: this.newId(newName), name: newName, builtin: false })
  }
}
