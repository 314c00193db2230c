import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  invalidQueryField,
  isNoDevicesMessage,
  parseComputeApps,
  parseComputeCapabilities,
  parseCudaVersion,
  parseGpuQuery,
  parseNvidiaSmiTable,
  type ParseResult,
} from '../../core/gpu/nvidia-smi'
import { GpuInfo, type GpuComputeCapability, type GpuProcess } from '../../core/gpu/types'
import { RTX3060, RTX4090 } from '../helpers/nvidia-smi'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const fixture = (name: string) => readFileSync(path.join(repoRoot, 'tests/fixtures/nvidia-smi', name), 'utf8')

function value<T>(result: ParseResult<T>): T {
  if (!result.ok) throw new Error(`expected a parse, got: ${result.error.message}`)
  return result.value
}

describe('parseGpuQuery: outputs that must be read', () => {
  const cases: Array<{ name: string; text: string; driver: string | null; gpus: GpuInfo[] }> = [
    {
      name: 'two GPUs',
      text: fixture('two-gpus.query-gpu.csv'),
      driver: '550.54.14',
      gpus: [RTX4090, RTX3060],
    },
    {
      name: 'a header line and units (--format=csv without noheader,nounits)',
      text: fixture('two-gpus-with-header-and-units.query-gpu.csv'),
      driver: '550.54.14',
      gpus: [RTX4090, RTX3060],
    },
    {
      name: 'a laptop GPU with [N/A] use and temperature, Windows line endings',
      text: fixture('laptop-na-crlf.query-gpu.csv'),
      driver: '546.80',
      gpus: [
        {
          index: 0,
          uuid: 'GPU-b5e386b4-3e71-5837-aca5-80c5914cf07f',
          name: 'NVIDIA GeForce RTX 3060 Laptop GPU',
          memory_total_mib: 6144,
          memory_used_mib: 816,
          memory_free_mib: 5163,
          utilization_percent: null,
          temperature_c: null,
        },
      ],
    },
    {
      name: 'a comma inside the GPU name',
      text: fixture('comma-name.query-gpu.csv'),
      driver: '535.183.01',
      gpus: [{ ...RTX3060, index: 0, name: 'NVIDIA GeForce RTX 3060, LHR' }],
    },
    {
      name: 'several commas inside the GPU name',
      text: '3, GPU-x, Acme, Inc., Board, Rev 2, 8192, 1, 8191, 0, 30, 555.1\n',
      driver: '555.1',
      gpus: [
        {
          index: 3,
          uuid: 'GPU-x',
          name: 'Acme, Inc., Board, Rev 2',
          memory_total_mib: 8192,
          memory_used_mib: 1,
          memory_free_mib: 8191,
          utilization_percent: 0,
          temperature_c: 30,
        },
      ],
    },
    {
      name: 'RTX 5090 + RTX 4090',
      text: fixture('rtx5090-4090.query-gpu.csv'),
      driver: '580.82.09',
      gpus: [
        {
          index: 0,
          uuid: 'GPU-0f6b2d88-14c3-4a9e-bd27-5e90c1a37f42',
          name: 'NVIDIA GeForce RTX 5090',
          memory_total_mib: 32607,
          memory_used_mib: 2,
          memory_free_mib: 32101,
          utilization_percent: 0,
          temperature_c: 31,
        },
        {
          ...RTX4090,
          index: 1,
          memory_used_mib: 1,
          memory_free_mib: 24138,
          utilization_percent: 0,
          temperature_c: 32,
        },
      ],
    },
    {
      name: '[Not Supported] and trailing spaces',
      text: fixture('not-supported-trailing-spaces.query-gpu.csv'),
      driver: '418.87.01',
      gpus: [
        {
          index: 0,
          uuid: 'GPU-0c1e7f55-2a9b-41d3-8e6f-93b0d2c4a718',
          name: 'NVIDIA GeForce GTX 1050 Ti',
          memory_total_mib: 4096,
          memory_used_mib: 305,
          memory_free_mib: 3791,
          utilization_percent: null,
          temperature_c: 38,
        },
      ],
    },
    {
      name: 'unified memory reported as [N/A]',
      text: fixture('unified-memory-na.query-gpu.csv'),
      driver: '580.95.05',
      gpus: [
        {
          index: 0,
          uuid: 'GPU-6e2a0b19-f4d7-4c38-a5e2-0d91b7c36e54',
          name: 'NVIDIA GB10',
          memory_total_mib: null,
          memory_used_mib: null,
          memory_free_mib: null,
          utilization_percent: 0,
          temperature_c: 44,
        },
      ],
    },
    {
      name: 'a WARNING line before the rows',
      text: fixture('inforom-warning.query-gpu.csv'),
      driver: '550.54.14',
      gpus: [RTX4090],
    },
    {
      name: 'bare N/A from old drivers and an [Unknown Error]',
      text: '0, GPU-1, GeForce GTX 960M, 2004, N/A, [Unknown Error], 0, 44, 410.72\n',
      driver: '410.72',
      gpus: [
        {
          index: 0,
          uuid: 'GPU-1',
          name: 'GeForce GTX 960M',
          memory_total_mib: 2004,
          memory_used_mib: null,
          memory_free_mib: null,
          utilization_percent: 0,
          temperature_c: 44,
        },
      ],
    },
    { name: 'an empty list', text: fixture('empty.csv'), driver: null, gpus: [] },
    { name: 'only blank lines and CRLF', text: '\r\n  \r\n\n', driver: null, gpus: [] },
    { name: '"No devices were found"', text: fixture('no-devices.txt'), driver: null, gpus: [] },
  ]
  it.each(cases)('$name', ({ text, driver, gpus }) => {
    const parsed = value(parseGpuQuery(text))
    expect(parsed.driverVersion).toBe(driver)
    expect(parsed.gpus).toEqual(gpus)
    for (const g of parsed.gpus) expect(GpuInfo.parse(g)).toEqual(g)
  })

  it('reads another field order, numbering GPUs in order when index is not queried', () => {
    const fields = ['memory.free', 'name', 'memory.total']
    const parsed = value(parseGpuQuery('100, A,B, 200\n300, C, 400\n', fields))
    expect(parsed.gpus.map((g) => [g.index, g.name, g.memory_free_mib, g.memory_total_mib])).toEqual([
      [0, 'A,B', 100, 200],
      [1, 'C', 300, 400],
    ])
    expect(parsed.driverVersion).toBeNull()
  })
})

describe('parseGpuQuery: garbage is a typed error, never a GPU', () => {
  const cases: Array<{ name: string; text: string; line: number | null; says: RegExp }> = [
    { name: 'an HTML page', text: fixture('garbage-html.txt'), line: 1, says: /502 Bad Gateway/ },
    { name: 'a truncated row', text: fixture('garbage-truncated-row.csv'), line: 1, says: /found 5/ },
    {
      name: 'a word where a number goes',
      text: fixture('garbage-word-in-number.csv'),
      line: 1,
      says: /"lots"/,
    },
    {
      name: 'the driver error message',
      text: fixture('driver-not-loaded.txt'),
      line: 1,
      says: /NVIDIA-SMI has failed/,
    },
    {
      name: 'the NVML mismatch message',
      text: fixture('nvml-mismatch.txt'),
      line: 1,
      says: /Failed to initialize NVML/,
    },
    { name: 'binary noise', text: '\u0000\u0001\u0002\u00ff\n', line: 1, says: /cannot read/ },
    {
      name: 'a good row followed by a bad one (no half lists)',
      text: `${fixture('two-gpus.query-gpu.csv')}oops\n`,
      line: 3,
      says: /"oops"/,
    },
    { name: 'only commas', text: ',,,,,,,,\n', line: 1, says: /GPU number/ },
    { name: 'a negative GPU number', text: '-1, u, n, 1, 1, 0, 0, 0, 1.0\n', line: 1, says: /GPU number/ },
    { name: 'a fractional GPU number', text: '0.5, u, n, 1, 1, 0, 0, 0, 1.0\n', line: 1, says: /GPU number/ },
    {
      name: 'a row after blank lines (line numbers count them)',
      text: '\n\nfoo, bar\n',
      line: 3,
      says: /line 3/,
    },
  ]
  it.each(cases)('$name', ({ text, line, says }) => {
    const result = parseGpuQuery(text)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.kind).toBe('unparseable')
    expect(result.error.line).toBe(line)
    expect(result.error.message).toMatch(says)
    expect(result.error.message).toContain('Run "nvidia-smi" in a terminal')
  })

  it('never throws and never returns an invalid GPU, whatever it is given', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const result = parseGpuQuery(text)
        if (result.ok) for (const g of result.value.gpus) GpuInfo.parse(g)
        else expect(result.error.kind).toBe('unparseable')
      }),
      { numRuns: 500 },
    )
  })

  it('never throws on rows made of real-looking cells in random order', () => {
    const cell = fc.constantFrom(
      '0',
      '1',
      '24564',
      '[N/A]',
      '[Not Supported]',
      'NVIDIA GeForce RTX 4090',
      '',
      ' ',
      'x',
    )
    fc.assert(
      fc.property(fc.array(fc.array(cell, { maxLength: 12 }), { maxLength: 4 }), (rows) => {
        const text = rows.map((r) => r.join(', ')).join('\r\n')
        const result = parseGpuQuery(text)
        if (result.ok) for (const g of result.value.gpus) GpuInfo.parse(g)
      }),
      { numRuns: 300 },
    )
  })
})

describe('parseComputeApps', () => {
  const cases: Array<{ name: string; text: string; processes: GpuProcess[] }> = [
    {
      name: 'two processes on two GPUs',
      text: fixture('two-gpus.compute-apps.csv'),
      processes: [
        { pid: 48213, used_memory_mib: 1010, gpu_uuid: 'GPU-5d3e8c1a-7b42-4f0e-9a61-2c8d7e4b9f10' },
        { pid: 48990, used_memory_mib: 4, gpu_uuid: 'GPU-a91f04c2-3d6b-8e57-b0c4-71e2f5a8d364' },
      ],
    },
    {
      name: 'Windows WDDM: memory [N/A], CRLF',
      text: fixture('laptop-wddm-crlf.compute-apps.csv'),
      processes: [
        { pid: 11020, used_memory_mib: null, gpu_uuid: 'GPU-b5e386b4-3e71-5837-aca5-80c5914cf07f' },
      ],
    },
    { name: 'no processes', text: '', processes: [] },
    {
      name: 'old drivers: "No running processes found"',
      text: 'No running processes found\n',
      processes: [],
    },
    {
      name: 'a header line',
      text: 'pid, used_gpu_memory [MiB], gpu_uuid\n77, 512 MiB, GPU-1\n',
      processes: [{ pid: 77, used_memory_mib: 512, gpu_uuid: 'GPU-1' }],
    },
  ]
  it.each(cases)('$name', ({ text, processes }) => {
    expect(value(parseComputeApps(text))).toEqual(processes)
  })

  it.each([
    ['a word for a pid', 'python, 100, GPU-1\n'],
    ['a missing column', '12, 100\n'],
    ['[N/A] for a pid', '[N/A], 100, GPU-1\n'],
  ])('rejects %s', (_name, text) => {
    const result = parseComputeApps(text)
    expect(result.ok).toBe(false)
  })
})

describe('parseComputeCapabilities', () => {
  const cases: Array<{ name: string; text: string; fields?: string[]; caps: GpuComputeCapability[] }> = [
    {
      name: 'RTX 4090 + RTX 3060',
      text: fixture('two-gpus.compute-cap.csv'),
      caps: [
        { index: 0, name: 'NVIDIA GeForce RTX 4090', compute_cap: '8.9' },
        { index: 1, name: 'NVIDIA GeForce RTX 3060', compute_cap: '8.6' },
      ],
    },
    {
      name: 'RTX 5090 (12.0) + RTX 4090',
      text: fixture('rtx5090-4090.compute-cap.csv'),
      caps: [
        { index: 0, name: 'NVIDIA GeForce RTX 5090', compute_cap: '12.0' },
        { index: 1, name: 'NVIDIA GeForce RTX 4090', compute_cap: '8.9' },
      ],
    },
    {
      name: '[N/A]',
      text: '0, Some GPU, [N/A]\n',
      caps: [{ index: 0, name: 'Some GPU', compute_cap: null }],
    },
    {
      name: 'the fallback query without compute_cap',
      text: '0, NVIDIA GeForce RTX 2080\n',
      fields: ['index', 'name'],
      caps: [{ index: 0, name: 'NVIDIA GeForce RTX 2080', compute_cap: null }],
    },
  ]
  it.each(cases)('$name', ({ text, fields, caps }) => {
    expect(value(parseComputeCapabilities(text, fields))).toEqual(caps)
  })

  it('rejects a capability that is not a version', () => {
    expect(parseComputeCapabilities('0, GPU, sm_89\n').ok).toBe(false)
  })
})

describe('messages nvidia-smi prints instead of data', () => {
  it('recognises an old driver refusing compute_cap', () => {
    expect(invalidQueryField(fixture('old-driver.compute-cap.txt'))).toBe('compute_cap')
    expect(invalidQueryField('0, NVIDIA GeForce RTX 4090, 8.9')).toBeNull()
  })
  it('recognises "No devices were found" only as a whole line', () => {
    expect(isNoDevicesMessage(fixture('no-devices.txt'))).toBe(true)
    expect(isNoDevicesMessage('No devices were found\r\n')).toBe(true)
    expect(isNoDevicesMessage(fixture('two-gpus.query-gpu.csv'))).toBe(false)
  })
})

describe('parseCudaVersion', () => {
  it.each([
    ['| NVIDIA-SMI 550.54.14   Driver Version: 550.54.14   CUDA Version: 12.4     |', '12.4'],
    ['| NVIDIA-SMI 580.82.09   Driver Version: 580.82.09   CUDA Version: 13.0     |', '13.0'],
    ['| NVIDIA-SMI 410.48                 Driver Version: 410.48                    |', null],
    ['| NVIDIA-SMI 575.64.03   Driver Version: 575.64.03   CUDA Version: N/A      |', null],
    ['| NVIDIA-SMI 545.46      Driver Version: 546.80      CUDA Version: ERR!     |', null],
    ['', null],
  ])('%s -> %s', (header, cuda) => {
    expect(parseCudaVersion(header)).toBe(cuda)
  })
})

describe('parseNvidiaSmiTable', () => {
  const cases = [
    {
      file: 'two-gpus.table.txt',
      driver: '550.54.14',
      cuda: '12.4',
      gpus: [
        {
          index: 0,
          name: 'NVIDIA GeForce RTX 4090',
          memory_used_mib: 1234,
          memory_total_mib: 24564,
          utilization_percent: 3,
          temperature_c: 41,
        },
        {
          index: 1,
          name: 'NVIDIA GeForce RTX 3060',
          memory_used_mib: 9,
          memory_total_mib: 12288,
          utilization_percent: 0,
          temperature_c: 35,
        },
      ],
      processes: [
        [0, 2210, 'G', 212],
        [0, 48213, 'C', 1010],
        [1, 48990, 'C', 4],
      ],
    },
    {
      file: 'rtx5090-cuda12.8.table.txt',
      driver: '570.133.07',
      cuda: '12.8',
      gpus: [
        {
          index: 0,
          name: 'NVIDIA GeForce RTX 5090',
          memory_used_mib: 611,
          memory_total_mib: 32607,
          utilization_percent: 1,
          temperature_c: 33,
        },
      ],
      processes: [[0, 1874, 'G', 402]],
    },
    {
      file: 'rtx5090-4090-cuda13.0.table.txt',
      driver: '580.82.09',
      cuda: '13.0',
      gpus: [
        {
          index: 0,
          name: 'NVIDIA GeForce RTX 5090',
          memory_used_mib: 2,
          memory_total_mib: 32607,
          utilization_percent: 0,
          temperature_c: 31,
        },
        {
          index: 1,
          name: 'NVIDIA GeForce RTX 4090',
          memory_used_mib: 1,
          memory_total_mib: 24564,
          utilization_percent: 0,
          temperature_c: 32,
        },
      ],
      processes: [],
    },
    {
      file: 'windows-laptop-crlf.table.txt',
      driver: '546.80',
      cuda: '12.3',
      gpus: [
        {
          index: 0,
          name: 'NVIDIA GeForce RTX 3060 ...',
          memory_used_mib: 816,
          memory_total_mib: 6144,
          utilization_percent: 3,
          temperature_c: 54,
        },
      ],
      processes: [
        [0, 7312, 'C+G', null],
        [0, 11020, 'C', null],
      ],
    },
    {
      file: 'cuda-version-na.table.txt',
      driver: '575.64.03',
      cuda: null,
      gpus: [
        {
          index: 0,
          name: 'NVIDIA GeForce RTX 5070',
          memory_used_mib: 1731,
          memory_total_mib: 12227,
          utilization_percent: 25,
          temperature_c: 39,
        },
      ],
      processes: [],
    },
    {
      file: 'cuda-version-err.table.txt',
      driver: '546.80',
      cuda: null,
      gpus: [
        {
          index: 0,
          name: 'NVIDIA GeForce RTX 3060 ...',
          memory_used_mib: 816,
          memory_total_mib: 6144,
          utilization_percent: 3,
          temperature_c: 54,
        },
      ],
      processes: [],
    },
    {
      file: 'old-driver-470.table.txt',
      driver: '470.256.02',
      cuda: '11.4',
      gpus: [
        {
          index: 0,
          name: 'NVIDIA GeForce ...',
          memory_used_mib: 305,
          memory_total_mib: 7979,
          utilization_percent: 2,
          temperature_c: 45,
        },
      ],
      processes: [
        [0, 1873, 'G', 163],
        [0, 30512, 'C', 128],
      ],
    },
  ]
  it.each(cases)('$file', ({ file, driver, cuda, gpus, processes }) => {
    const table = value(parseNvidiaSmiTable(fixture(file)))
    expect(table.driver_version).toBe(driver)
    expect(table.cuda_version).toBe(cuda)
    expect(table.gpus).toEqual(gpus)
    expect(table.processes.map((p) => [p.gpu_index, p.pid, p.type, p.used_memory_mib])).toEqual(processes)
  })

  it('keeps process names with spaces and Windows paths', () => {
    const table = value(parseNvidiaSmiTable(fixture('windows-laptop-crlf.table.txt')))
    expect(table.processes[1]!.process_name).toBe('...\\sd-scripts\\venv\\Scripts\\python.exe')
  })

  it.each([
    ['the driver error', fixture('driver-not-loaded.txt'), /NVIDIA-SMI has failed/],
    ['nothing', '', /printed nothing/],
    ['a CSV instead of the table', fixture('two-gpus.query-gpu.csv'), /usual table/],
  ])('rejects %s', (_name, text, says) => {
    const result = parseNvidiaSmiTable(text)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error.message).toMatch(says)
  })

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        parseNvidiaSmiTable(`| NVIDIA-SMI 1.0  Driver Version: 1.0 |\n${text}`)
      }),
      { numRuns: 300 },
    )
  })
})

/* Real outputs recorded from public reports, with facts read off by hand (../shared/reference). */
const samplesDir = path.resolve(repoRoot, '../shared/reference/samples/nvidia-smi')
const sourcesFile = path.resolve(repoRoot, '../shared/reference/samples/SOURCES.md')
let sampleNames: string[] = []
try {
  sampleNames = readdirSync(samplesDir)
    .filter((f) => f.endsWith('.expected.json'))
    .map((f) => f.replace(/\.expected\.json$/, ''))
} catch {
  sampleNames = []
}

interface SampleFacts {
  driver_version: string | null
  cuda_version: string | null
  gpus: Array<Partial<GpuInfo>>
}

describe.skipIf(sampleNames.length === 0)(
  'recorded third-party nvidia-smi samples (../shared/reference/samples/nvidia-smi)',
  () => {
    if (sampleNames.length === 0) {
      it.skip(`skipped: ${samplesDir} is absent in this checkout`, () => undefined)
      return
    }
    const sources = readFileSync(sourcesFile, 'utf8')
    it.each(sampleNames)('%s', (name) => {
      const text = readFileSync(path.join(samplesDir, `${name}.txt`), 'utf8')
      const facts = JSON.parse(
        readFileSync(path.join(samplesDir, `${name}.expected.json`), 'utf8'),
      ) as SampleFacts
      if (/NVIDIA-SMI|Driver Version:/.test(text)) {
        const table = value(parseNvidiaSmiTable(text))
        expect(table.driver_version).toBe(facts.driver_version)
        expect(table.cuda_version).toBe(facts.cuda_version)
        expect(table.gpus).toHaveLength(facts.gpus.length)
        facts.gpus.forEach((g, i) => expect(table.gpus[i]).toMatchObject(g))
      } else {
        // A CSV sample: its query's field list is recorded in SOURCES.md, next to the file name.
        const row = sources.split('\n').find((l) => l.includes(`${name}.txt`)) ?? ''
        const fields = /--query-gpu=([\w.,]+)/.exec(row)?.[1]?.split(',')
        expect(fields, `SOURCES.md names the query fields of ${name}`).toBeDefined()
        const parsed = value(parseGpuQuery(text, fields))
        expect(parsed.driverVersion).toBe(facts.driver_version)
        expect(parsed.gpus).toHaveLength(facts.gpus.length)
        facts.gpus.forEach((g, i) => expect(parsed.gpus[i]).toMatchObject(g))
      }
    })
  },
)
