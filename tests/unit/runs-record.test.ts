import { describe, expect, it } from 'vitest'
import { argValue, displayCommand, RunStartInput } from '../../core/runs/record'
import { SummaryReducer } from '../../core/runs/summary'

describe('run records (pure helpers)', () => {
  it('shows a command with quoting only where needed', () => {
    expect(
      displayCommand([
        'accelerate',
        'launch',
        'sdxl_train_network.py',
        '--output_dir',
        'D:\\Обучение\\out dir',
      ]),
    ).toBe("accelerate launch sdxl_train_network.py --output_dir 'D:\\Обучение\\out dir'")
    expect(displayCommand(['python', '--lr=1e-4', 'a"b'])).toBe(`python --lr=1e-4 'a"b'`)
    // Nothing a shell would expand is left outside single quotes (bash: $, backticks, !).
    expect(displayCommand(['echo', '$(id)', '`id`', 'hi!'])).toBe("echo '$(id)' '`id`' 'hi!'")
    // On Windows: PowerShell, where a quoted program needs the call operator.
    expect(displayCommand(['C:\\v\\python.exe', "it's $(x)"], 'windows')).toBe(
      "& C:\\v\\python.exe 'it''s $(x)'",
    )
  })

  it('reads --name value and --name=value', () => {
    const cmd = ['python', 'x.py', '--output_dir', '/o', '--save_every_n_epochs=2']
    expect(argValue(cmd, 'output_dir')).toBe('/o')
    expect(argValue(cmd, 'save_every_n_epochs')).toBe('2')
    expect(argValue(cmd, 'save_every_n_steps')).toBeNull()
  })

  it('refuses a shell string or an empty command', () => {
    expect(RunStartInput.safeParse({ command: 'python train.py', cwd: '/' }).success).toBe(false)
    const empty = RunStartInput.safeParse({ command: [], cwd: '/' })
    expect(empty.success).toBe(false)
    expect(RunStartInput.safeParse({ command: ['python'], cwd: '/', unknown: 1 }).success).toBe(false)
  })

  it('the summary prefers the start-up block and keeps the last finite loss', () => {
    const r = new SummaryReducer()
    const bar = (step: number, total: number, loss: number | null) =>
      ({
        type: 'progress',
        bar: 'train',
        desc: 'steps',
        step,
        total,
        percent: null,
        elapsed_s: null,
        remaining_s: null,
        rate: null,
        it_per_s: null,
        avr_loss: loss,
        postfix: {},
      }) as const
    r.add(bar(1, 50, 0.3))
    expect(r.get().total_steps).toBe(50)
    r.add({
      type: 'startup',
      variant: 'network',
      train_images_with_repeats: 1,
      validation_images_with_repeats: null,
      reg_images: null,
      num_examples: null,
      batches_per_epoch: 1,
      epochs: 4,
      batch_size_per_device: [1],
      gradient_accumulation_steps: 1,
      total_steps: 100,
    })
    r.add(bar(2, 50, null))
    r.add({ type: 'checkpoint', action: 'saved', path: 'a/x.safetensors', file: 'x.safetensors' })
    r.add({ type: 'checkpoint', action: 'saved', path: 'b\\x.safetensors', file: 'x.safetensors' })
    r.add({ type: 'failure', kind: 'exception', message: 'E', detail: 'E' })
    r.add({ type: 'failure', kind: 'oom', message: 'CUDA out of memory', detail: null })
    expect(r.get()).toEqual({
      total_steps: 100,
      last_step: 2,
      epochs_total: 4,
      last_epoch: null,
      last_avr_loss: 0.3,
      error: 'oom',
      saved_checkpoints: ['x.safetensors'],
    })
  })
})
