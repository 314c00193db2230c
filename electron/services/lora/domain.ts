import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { ToolCheck } from '../../../core/api/domains/lora'
import { ApiError } from '../../../core/api/errors'
import type { LoraProblem } from '../../../core/lora/inspect'
import { trainingFromLora } from '../../../core/lora/training-settings'
import { checkTool, planTool, type FileFacts, type ToolInput } from '../../../core/lora/tools'
import { displayCommand } from '../../../core/runs/record'
import type { ServiceOptions } from '../context'
import type { EnvManager } from '../env/manager'
import type { RequestHandlers, SubscriptionHandlers } from '../router'
import { resolveTrainingEnvironment } from '../training/environment'
import { LoraJobs, type ToolEnvironment } from './jobs'
import { fileFacts, readLora } from './read-lora'

export interface LoraDeps {
  env: EnvManager
}

async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  )
}

export function createLoraDomain(options: ServiceOptions, deps: LoraDeps) {
  let jobs: LoraJobs | null = null
  // Built on first use: inspecting a file needs no job folder.
  const getJobs = () => (jobs ??= new LoraJobs({ dataDir: options.dataDir, env: options.env }))

  /** Every problem with the inputs, the output and the environment; the environment when there is one. */
  async function check(input: ToolInput): Promise<{ problems: LoraProblem[]; env: ToolEnvironment | null }> {
    const plan = planTool(input)
    const facts: Record<string, FileFacts> = {}
    for (const f of plan.inputs) facts[f] ??= await fileFacts(f)
    const out = await fileFacts(plan.output)
    const problems = checkTool(input, facts, {
      exists: out.exists,
      dirExists: await isDir(path.dirname(path.resolve(plan.output))),
    })
    let env: ToolEnvironment | null = null
    try {
      // A tool checks what it needs itself; the environment need not be verified for training.
      const e = await resolveTrainingEnvironment(deps.env, { requireReady: false })
      env = { name: e.name, python: e.python, sd_scripts_dir: e.sd_scripts_dir, hf_home: e.hf_home }
      const script = path.join(e.sd_scripts_dir, ...plan.script.split('/'))
      const exists = await fs.stat(script).then(
        (s) => s.isFile(),
        () => false,
      )
      if (!exists)
        problems.push({
          code: 'script_missing',
          params: { script: plan.script, env: e.name },
          message: `The sd-scripts of environment "${e.name}" has no ${plan.script}. Repair or update the environment.`,
        })
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      problems.push({ code: 'no_environment', params: {}, message: error.message })
    }
    return { problems, env }
  }

  const requests = {
    'lora.inspect': async ({ file }) => {
      const { info, size } = await readLora(file)
      return { ...info, file, size_bytes: size, training: trainingFromLora(info) }
    },
    'lora.check': async (input): Promise<ToolCheck> => {
      const { problems, env } = await check(input)
      const plan = planTool(input)
      return {
        ok: problems.length === 0,
        problems,
        display: env
          ? displayCommand([
              env.python,
              path.join(env.sd_scripts_dir, ...plan.script.split('/')),
              ...plan.args,
            ])
          : null,
      }
    },
    'lora.run': async (input) => {
      const { problems, env } = await check(input)
      if (problems.length > 0 || !env)
        throw new ApiError(
          'domain',
          `The ${input.tool} cannot start:\n${problems.map((p) => `- ${p.message}`).join('\n')}`,
          { kind: 'tool_invalid', problems },
        )
      return getJobs().start(input, env)
    },
    'lora.jobs': () => getJobs().list(),
    'lora.job': ({ id }) => getJobs().get(id),
    'lora.stop': ({ id }) => getJobs().stop(id),
    'lora.log': ({ id }) => getJobs().log(id),
  } satisfies Partial<RequestHandlers>

  const subscriptions = {
    'lora.job': ({ id }, sink) =>
      getJobs().onUpdate((u) => {
        if (!id || u.job.id === id) sink.emit(u)
      }),
  } satisfies Partial<SubscriptionHandlers>

  return {
    requests,
    subscriptions,
    get jobs() {
      return getJobs()
    },
    dispose: async () => {
      if (jobs) await jobs.dispose()
    },
  }
}
