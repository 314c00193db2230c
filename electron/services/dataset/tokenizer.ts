import { existsSync, promises as fs, readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createClipTokenizer, estimateTokens } from '../../../core/dataset/clip-tokenizer'
import type { EnvManager } from '../env/manager'
import { resolveTrainingEnvironment } from '../training/environment'

/**
 * Counts caption tokens with CLIP's real tokenizer when its merges list is on this computer, which it is
 * once an environment is installed: the install fills sd-scripts' tokenizer cache
 * (<env>/tokenizers/openai_clip-vit-large-patch14/merges.txt). A Hugging Face cache that holds the
 * tokenizer (from an earlier online sd-scripts run) serves too. The app never downloads it for this;
 * without it counts are estimates, and the scan says so.
 */

export interface Counter {
  kind: 'clip' | 'estimate'
  count(text: string): number
}

const CLIP_FOLDER = 'openai_clip-vit-large-patch14'
const RECHECK_MS = 30_000

function hubSnapshots(hubDir: string): string[] {
  const snaps = path.join(hubDir, 'models--openai--clip-vit-large-patch14', 'snapshots')
  try {
    return readdirSync(snaps).map((s) => path.join(snaps, s))
  } catch {
    return []
  }
}

export class TokenCounter {
  private current: { counter: Counter; at: number } | null = null

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly manager: EnvManager,
  ) {}

  /** Folders that may hold merges.txt, best first. */
  private async candidates(): Promise<string[]> {
    const out: string[] = []
    if (this.env.SDXL_STUDIO_TOKENIZER_DIR)
      out.push(path.join(this.env.SDXL_STUDIO_TOKENIZER_DIR, CLIP_FOLDER))
    try {
      // Only its tokenizer files are read: any active environment will do, verified or not.
      const e = await resolveTrainingEnvironment(this.manager, { requireReady: false })
      if (e.tokenizer_cache_dir) out.push(path.join(e.tokenizer_cache_dir, CLIP_FOLDER))
      if (e.hf_home) out.push(...hubSnapshots(path.join(e.hf_home, 'hub')))
    } catch {
      // no usable environment: try the user's own Hugging Face cache
    }
    const hfHome = this.env.HF_HOME ?? path.join(this.env.HOME ?? os.homedir(), '.cache', 'huggingface')
    out.push(...hubSnapshots(this.env.HF_HUB_CACHE ?? path.join(hfHome, 'hub')))
    return out
  }

  async get(): Promise<Counter> {
    if (this.current && performance.now() - this.current.at < RECHECK_MS) return this.current.counter
    let counter: Counter = { kind: 'estimate', count: estimateTokens }
    for (const dir of await this.candidates()) {
      const merges = path.join(dir, 'merges.txt')
      if (!existsSync(merges)) continue
      try {
        const tok = createClipTokenizer(await fs.readFile(merges, 'utf8'))
        counter = { kind: 'clip', count: (t) => tok.count(t) }
        break
      } catch {
        // not CLIP's merges: keep looking
      }
    }
    this.current = { counter, at: performance.now() }
    return counter
  }
}
