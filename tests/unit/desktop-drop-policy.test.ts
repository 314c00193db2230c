import { describe, expect, it } from 'vitest'
import {
  DropPlan,
  fileRole,
  isDatasetToml,
  MAX_CONFIG_BYTES,
  MAX_DROPPED_ITEMS,
  planDrop,
  wantsContent,
  type DroppedItem,
} from '../../core/desktop/drop-policy'
import { renderer } from '../../electron/main/strings'
import en from '../../renderer/src/i18n/locales/en/desktop.json'
import ru from '../../renderer/src/i18n/locales/ru/desktop.json'

const file = (name: string, path: string | null, text?: string | null): DroppedItem => ({
  name,
  path,
  kind: 'file',
  size: text?.length ?? 10,
  ...(text !== undefined ? { text } : {}),
})
const folder = (name: string, path: string | null): DroppedItem => ({ name, path, kind: 'folder' })

const CONFIG_TOML = 'pretrained_model_name_or_path = "/m/sdxl.safetensors"\nnetwork_dim = 16\n'
const DATASET_TOML =
  '[general]\nresolution = 1024\n\n[[datasets]]\nbatch_size = 1\n\n  [[datasets.subsets]]\n  image_dir = "/d/10_cat"\n'

describe('where a dropped or opened item goes', () => {
  it('sorts files by extension, whatever the case', () => {
    expect(fileRole('a.SAFETENSORS')).toBe('model')
    expect(fileRole('old.ckpt')).toBe('model')
    expect(fileRole('кот.json')).toBe('json')
    expect(fileRole('config.TOML')).toBe('toml')
    expect(fileRole('prompts.txt')).toBe('text')
    expect(fileRole('1.webp')).toBe('image')
    expect(fileRole('model.safetensors.part')).toBe('other')
    expect(fileRole('')).toBe('other')
    expect(fileRole('no-extension')).toBe('other')
    expect(fileRole('.json')).toBe('json')
  })

  it('reads only config-sized config files', () => {
    expect(wantsContent({ name: 'a.json', kind: 'file', size: 100 })).toBe(true)
    expect(wantsContent({ name: 'a.json', kind: 'file', size: MAX_CONFIG_BYTES + 1 })).toBe(false)
    expect(wantsContent({ name: 'a.safetensors', kind: 'file', size: 100 })).toBe(false)
    expect(wantsContent({ name: 'a.toml', kind: 'folder' })).toBe(false)
  })

  it('tells a dataset config from a training config', () => {
    expect(isDatasetToml(DATASET_TOML)).toBe(true)
    expect(isDatasetToml(CONFIG_TOML)).toBe(false)
    expect(isDatasetToml('# [[datasets]] in a comment\nx = 1')).toBe(false)
  })

  it('desktop: a folder, a model, a kohya_ss JSON', () => {
    const plan = planDrop([
      folder('10_кот', '/data/10_кот'),
      file('sd_xl_base_1.0.safetensors', '/models/sd_xl_base_1.0.safetensors'),
      file('my lora.json', 'C:\\cfg\\my lora.json', '{"LoRA_type": "Standard", "network_dim": 16}'),
    ])
    expect(plan).toEqual({
      intents: [
        { type: 'add-image-folder', path: '/data/10_кот' },
        { type: 'set-model-path', path: '/models/sd_xl_base_1.0.safetensors' },
        {
          type: 'import-kohya-json',
          name: 'my lora.json',
          path: 'C:\\cfg\\my lora.json',
          text: '{"LoRA_type": "Standard", "network_dim": 16}',
        },
      ],
      problems: [],
    })
    expect(DropPlan.parse(plan)).toEqual(plan)
  })

  it('config.toml with its dataset.toml and prompts becomes one import, in any order', () => {
    const plan = planDrop([
      file('prompts.txt', null, 'a cat --w 1024 --h 1024'),
      file('dataset.toml', null, DATASET_TOML),
      file('config.toml', null, CONFIG_TOML),
    ])
    expect(plan.problems).toEqual([])
    expect(plan.intents).toEqual([
      {
        type: 'import-toml',
        name: 'config.toml',
        path: null,
        config: CONFIG_TOML,
        dataset: DATASET_TOML,
        prompts: 'a cat --w 1024 --h 1024',
      },
    ])
  })

  it('browser: no paths, so folders and models get a hint; configs still import', () => {
    const plan = planDrop([
      folder('10_cat', null),
      file('model.safetensors', null),
      file('config.toml', null, CONFIG_TOML),
    ])
    expect(plan.intents.map((i) => i.type)).toEqual(['import-toml'])
    expect(plan.problems).toEqual([
      { code: 'folder_needs_server_path', params: { name: '10_cat' } },
      { code: 'model_needs_server_path', params: { name: 'model.safetensors' } },
    ])
  })

  it('explains what it cannot use', () => {
    const big = 'x'.repeat(MAX_CONFIG_BYTES + 1)
    const plan = planDrop([
      { name: 'gone.json', path: '/x/gone.json', kind: 'missing' },
      file('1.png', '/d/1.png'),
      file('notes.docx', '/d/notes.docx'),
      file('broken.json', '/c/broken.json', '{"a": '),
      file('list.json', '/c/list.json', '[1, 2]'),
      file('huge.json', '/c/huge.json', big),
      {
        name: 'fifo.json',
        path: '/c/fifo.json',
        kind: 'file',
        size: 0,
        text: null,
        readError: 'not a regular file',
      },
      file('dataset.toml', '/c/dataset.toml', DATASET_TOML),
      file('p.txt', '/c/p.txt', 'a prompt'),
    ])
    expect(plan.intents).toEqual([])
    expect(plan.problems.map((p) => p.code)).toEqual([
      'path_missing',
      'images_not_folder',
      'unsupported_file',
      'config_not_json',
      'config_not_json',
      'config_too_big',
      'config_unreadable',
      'dataset_toml_alone',
      'prompts_alone',
    ])
    expect(plan.problems[0]?.params.name).toBe('/x/gone.json')
    expect(plan.problems[6]?.params.detail).toBe('not a regular file')
  })

  it('one model and one config at a time; the rest are named', () => {
    const plan = planDrop([
      file('a.safetensors', '/m/a.safetensors'),
      file('b.ckpt', '/m/b.ckpt'),
      file('k.json', '/c/k.json', '{}'),
      file('config.toml', '/c/config.toml', CONFIG_TOML),
      file('other.toml', '/c/other.toml', CONFIG_TOML),
    ])
    expect(plan.intents.map((i) => i.type)).toEqual(['set-model-path', 'import-kohya-json'])
    expect(plan.problems).toEqual([
      { code: 'several_models', params: { name: '/m/b.ckpt' } },
      { code: 'several_configs', params: { name: '/c/config.toml' } },
      { code: 'several_configs', params: { name: '/c/other.toml' } },
    ])
  })

  it('caps a drop of too many items', () => {
    const many = Array.from({ length: MAX_DROPPED_ITEMS + 7 }, (_, i) => folder(`d${i}`, `/d/d${i}`))
    const plan = planDrop(many)
    expect(plan.intents).toHaveLength(MAX_DROPPED_ITEMS)
    expect(plan.problems).toEqual([
      { code: 'too_many_items', params: { name: `d${MAX_DROPPED_ITEMS}`, detail: '7' } },
    ])
  })

  it('takes hostile names without breaking: empty, very long, Cyrillic, odd characters', () => {
    const long = `${'а'.repeat(5000)}.json`
    const plan = planDrop([
      file('', '/x/'),
      file(long, `/x/${long}`, '{"network_dim": 1}'),
      file('..', null),
      file('0', null),
      file('-1.toml', null, ''),
    ])
    expect(plan.intents).toEqual([expect.objectContaining({ type: 'import-kohya-json', name: long })])
    expect(plan.problems.map((p) => p.code)).toEqual([
      'unsupported_file',
      'unsupported_file',
      'unsupported_file',
      'several_configs',
    ])
    // An empty TOML is still a config.toml; the import then says what is missing.
    expect(planDrop([file('-1.toml', null, '')]).intents).toEqual([
      { type: 'import-toml', name: '-1.toml', path: null, config: '' },
    ])
  })

  it('has English and Russian for every problem, naming the item', () => {
    const codes = Object.keys(en.drop.problem)
    expect(Object.keys(ru.drop.problem).sort()).toEqual(codes.sort())
    const t = renderer('ru')
    for (const code of codes) {
      const text = t({ code: `drop.problem.${code}`, params: { name: 'кот.json', detail: '5' } })
      expect(text).toContain('кот.json')
      expect(text).toMatch(/[а-я]/)
    }
  })
})
