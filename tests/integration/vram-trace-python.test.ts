// The tracer's counting code (resources/vram/memtrace.py) on tiny models with real torch: every number is
// checked against the bytes computed by hand from the shapes. Needs a Python with torch (see
// tests/helpers/torch-python.ts); skips with the reason otherwise.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { torchPython } from '../helpers/torch-python'

const repoRoot = path.resolve(import.meta.dirname, '../..')
const found = torchPython()
if (!found.python) console.warn(`SKIP vram trace (memtrace) checks: ${found.why}`)

const MiB = 1024 * 1024
/** The CUDA caching allocator's block: every allocation is rounded up to 512 bytes. */
const block = (n: number) => Math.ceil(n / 512) * 512

describe.skipIf(!found.python)('memtrace on tiny models (real torch, meta device)', () => {
  let r: Record<string, unknown>
  beforeAll(() => {
    const run = spawnSync(
      found.python!,
      [
        path.join(repoRoot, 'tests/fixtures/vram-trace/tiny_checks.py'),
        path.join(repoRoot, 'resources/vram'),
      ],
      { encoding: 'utf8', timeout: 300_000 },
    )
    expect(run.status, run.stderr).toBe(0)
    r = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>
  }, 300_000)

  it('counts each storage once in 512-byte blocks and forgets it when freed', () => {
    expect(r.alloc_live).toBe(block(1000 * 4) + block(10 * 10 * 2)) // a view of `a` adds nothing
    expect(r.alloc_after_free).toBe(512)
    expect(r.alloc_peak).toBe(4608)
    expect(r.alloc_end).toBe(0)
  })

  it('emulates CUDA autocast: one cached bf16 copy per fp32 weight per region, kept only when backward needs it', () => {
    const copies = 1024 * 1024 * 2 + block(1024 * 2) // weight + bias, cast once for two calls
    expect(r.autocast_dtype).toBe('torch.bfloat16')
    expect(r.copies_in_region_False).toBe(copies)
    expect(r.copies_after_region_False).toBe(0) // input needs no grad: the weight copy is not saved
    expect(r.copies_in_region_True).toBe(copies)
    expect(r.copies_after_region_True).toBe(1024 * 1024 * 2) // saved for the input's gradient; the bias copy is not
  })

  it("follows CUDA's op lists: norms and softmax in fp32, matmuls in the autocast dtype, fp8 weights cast per call", () => {
    expect(r.group_norm).toBe('torch.float32')
    expect(r.softmax).toBe('torch.float32')
    expect(r.matmul).toBe('torch.bfloat16')
    expect(r.fp8_linear).toBe('torch.bfloat16')
    expect(r.fp8_copies_at_linear).toBe(64 * 64 * 2)
  })

  it('gradient checkpointing keeps only the block output; the recomputation restores autocast', () => {
    const hidden = 64 * 4096 * 4 // fp32 (64, 4096)
    const output = 64 * 256 * 4
    expect(r.held_after_forward_ckpt_False).toBe(2 * hidden + output) // gelu's input and l2's input saved
    expect(r.held_after_forward_ckpt_True).toBe(output)
    const grads = 4096 * 256 * 4 + 4096 * 4 + 256 * 4096 * 4 + 256 * 4
    expect(r.grads_ckpt_False).toBe(grads)
    expect(r.grads_ckpt_True).toBe(grads)
    // [autocast on, grad on, activation dtype] of the forward call and of the recomputation in backward
    expect(r.checkpoint_calls).toEqual([
      [true, false, 'torch.bfloat16'],
      [true, true, 'torch.bfloat16'],
    ])
  })

  it('attention keeps what the flash kernel keeps, never the L×L matrix of the math path', () => {
    const out = 1 * 2 * 4096 * 64 * 2
    const lse = 1 * 2 * 4096 * 4
    expect(r.attention_held_flash).toBe(out + lse + 2 * 512) // + the kernel's two RNG-state scalars
    expect(r.attention_peak_flash as number).toBeLessThan(2 * MiB)
    expect(r.attention_held_math as number).toBeGreaterThan(2 * 4096 * 4096 * 2) // the bf16 matrix alone
  })

  it('gives .item() of data-less tensors plausible values: known zeros are false, others true', () => {
    expect(r.any_zeros).toBe(false)
    expect(r.any_zero_init).toBe(false) // a zero-initialised LoRA up weight (Prodigy keeps no p0 for it)
    expect(r.any_random).toBe(true)
    expect(r.any_nan).toBe(false) // sd-scripts' NaN check on latents
    expect(r.any_after_update).toBe(true)
    expect(r.item_float).toBe(1)
  })
})
