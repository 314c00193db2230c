/**
 * Micro-benchmark of the VRAM prediction (the gauge recomputes on every form change).
 * Usage: npm run bench:vram
 */
import { performance } from 'node:perf_hooks'
import { adviseFor } from '../../core/vram/advice'
import { predict } from '../../core/vram/model'
import { VramScenario } from '../../core/vram/scenario'

const scenarios = [
  VramScenario.parse({ training_type: 'lora', network_dim: 32 }),
  VramScenario.parse({
    training_type: 'lokr',
    network_dim: 64,
    lokr_factor: 8,
    gradient_checkpointing: true,
  }),
  VramScenario.parse({ training_type: 'dreambooth', train_text_encoder: true, batch_size: 4 }),
  VramScenario.parse({
    training_type: 'loha',
    network_dim: 16,
    conv_dim: 8,
    resolution: { width: 832, height: 1216 },
  }),
]

function bench(label: string, fn: (i: number) => void, n: number) {
  for (let i = 0; i < Math.min(n, 1000); i++) fn(i) // warm-up
  const t0 = performance.now()
  for (let i = 0; i < n; i++) fn(i)
  const us = ((performance.now() - t0) / n) * 1000
  console.log(`${label.padEnd(44)} ${us.toFixed(2)} µs/call (${n} calls)`)
}

bench('predict (memoised parameter counts)', (i) => predict(scenarios[i % scenarios.length]!), 100_000)
bench(
  'predict (new network dim every call)',
  (i) => predict({ ...scenarios[1]!, network_dim: 1 + (i % 4000) }),
  20_000,
)
bench(
  'advice + make-it-fit (8 GB target)',
  (i) => adviseFor(scenarios[i % scenarios.length]!, { totalGib: 8 }),
  500,
)
