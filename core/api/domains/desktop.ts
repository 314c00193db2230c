import { z } from 'zod'
import { AppCommand } from '../../desktop/app-commands'
import { DropIntent, DropPlan, DropProblem } from '../../desktop/drop-policy'
import { event, request } from '../define'

/**
 * The desktop side of the app: files given by path (drops, the command line of a second launch, the recent
 * lists), the recent lists themselves, where a run's output is, what work is in progress (the quit guard),
 * and intents the host pushes to the page (a menu command, a notification click, files to open).
 */

export const AppIntent = z.union([
  DropIntent,
  z.object({ type: z.literal('command'), command: AppCommand }),
  z.object({ type: z.literal('page'), page: z.string().min(1) }),
  z.object({ type: z.literal('open-run'), id: z.string().min(1) }),
])
export type AppIntent = z.infer<typeof AppIntent>

export const IntentBatch = z.object({ intents: z.array(AppIntent), problems: z.array(DropProblem) })
export type IntentBatch = z.infer<typeof IntentBatch>

export const RecentKind = z.enum(['config', 'folder'])
export type RecentKind = z.infer<typeof RecentKind>

export const RecentEntry = z.object({ path: z.string().min(1), at: z.string() })
export const RecentLists = z.object({ configs: z.array(RecentEntry), folders: z.array(RecentEntry) })
export type RecentLists = z.infer<typeof RecentLists>

const PathText = z.string().trim().min(1).max(4096)

export const WorkState = z.object({
  /** Runs training (starting, running or stopping) in this app process. */
  runs: z.array(z.object({ id: z.string(), name: z.string(), state: z.string() })),
  queued: z.number().int().nonnegative(),
  /** Environments being installed, repaired or updated. */
  installs: z.array(z.string()),
  /** LoRA tool jobs running or waiting. */
  tools: z.number().int().nonnegative(),
})
export type WorkState = z.infer<typeof WorkState>

export const OutputLocation = z.object({
  /** The run's output folder (absolute), null when the command named none. */
  folder: z.string().nullable(),
  folder_exists: z.boolean(),
  /** The last file the run saved (its model at the end), absolute; null before any save. */
  file: z.string().nullable(),
  file_exists: z.boolean(),
})
export type OutputLocation = z.infer<typeof OutputLocation>

const Id = z.object({ id: z.string().min(1) }).strict()

export const requests = {
  'files.open': request(
    z.object({ paths: z.array(PathText).min(1).max(200) }).strict(),
    DropPlan,
    'Where files and folders go: image folder → dataset, .safetensors/.ckpt → model, kohya_ss .json and sd-scripts .toml → import (read here)',
  ),
  'recent.list': request(z.object({}).strict(), RecentLists, 'Recently opened configs and image folders'),
  'recent.add': request(
    z.object({ kind: RecentKind, path: PathText }).strict(),
    RecentLists,
    'Put a config or image folder first in its recent list',
  ),
  'recent.remove': request(
    z.object({ kind: RecentKind, path: PathText }).strict(),
    RecentLists,
    'Take one entry off a recent list',
  ),
  'recent.clear': request(
    z.object({ kind: RecentKind.optional() }).strict(),
    RecentLists,
    'Empty one recent list, or both',
  ),
  'app.work': request(
    z.object({}).strict(),
    WorkState,
    'Work in progress that quitting would stop: runs, installs, LoRA tool jobs',
  ),
  'run.output_location': request(
    Id,
    OutputLocation,
    "A run's output folder and the last file it saved, as paths on the machine running SDXL Studio",
  ),
  'run.reveal_output': request(
    Id,
    z.object({ revealed: z.string() }),
    "Show the run's last saved file in the system file manager (desktop app only)",
  ),
}

export const events = {
  'app.intents': event(
    z.object({}).strict(),
    IntentBatch,
    'What the desktop host asks the page to do: menu commands, files to open, a run to show',
  ),
}
