import { z } from 'zod'
import { seedRowToScenario } from './data'
import { SeedRow } from './measurements'
import { predict } from './model'

export const SeedInput = z.object({ rows: z.array(SeedRow) }).strict()

export interface SeedOutput {
  rows: { id: string; predicted_gib: number }[]
}

/** Validates seed rows and predicts each (rounded to 0.1 GiB like the table). Never throws. */
export function runSeed(input: unknown): { ok: true; output: SeedOutput } | { ok: false; error: string } {
  const parsed = SeedInput.safeParse(input)
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    return {
      ok: false,
      error:
        `expected {"rows":[{"id","type":"dreambooth"|"lora"|"locon","network_dim","conv_dim","batch_size",` +
        `"gradient_checkpointing","full_bf16","fp8_base"}]}. ${issues.join('; ')}`,
    }
  }
  const rows = parsed.data.rows.map((row) => ({
    id: row.id,
    predicted_gib: Math.round(predict(seedRowToScenario(row)).peak_gib * 10) / 10,
  }))
  return { ok: true, output: { rows } }
}
