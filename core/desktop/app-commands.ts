import { z } from 'zod'
import { msg, type Msg } from './messages'

/**
 * The app's commands and their keyboard shortcuts, and the desktop app's menu built from them. Electron's
 * main process turns the menu into a native one (electron/main/app-menu.ts); headless mode binds the same
 * shortcuts in the page where a browser lets a page have them (not Ctrl+1…9: browsers keep those for tabs).
 */

export const AppCommand = z.enum(['start', 'stop', 'save-preset', 'open-config'])
export type AppCommand = z.infer<typeof AppCommand>

/** Pages a shortcut can switch to, in the navigation's order (renderer/src/App.tsx). */
export const SHORTCUT_PAGES = ['environment', 'train', 'dataset', 'runs', 'lora', 'gpu', 'settings'] as const

export interface Shortcut {
  command: AppCommand
  /** Electron accelerator syntax. */
  accelerator: string
  /** Mantine useHotkeys syntax (mod = Ctrl, or ⌘ on macOS). */
  hotkey: string
}

export const COMMAND_SHORTCUTS: readonly Shortcut[] = [
  { command: 'start', accelerator: 'CmdOrCtrl+Enter', hotkey: 'mod+Enter' },
  { command: 'stop', accelerator: 'CmdOrCtrl+Shift+Enter', hotkey: 'mod+shift+Enter' },
  { command: 'save-preset', accelerator: 'CmdOrCtrl+S', hotkey: 'mod+S' },
  { command: 'open-config', accelerator: 'CmdOrCtrl+O', hotkey: 'mod+O' },
]

export function pageAccelerator(index: number): string | undefined {
  return index < 9 ? `CmdOrCtrl+${index + 1}` : undefined
}

export type MenuAction =
  | { type: 'command'; command: AppCommand }
  | { type: 'page'; page: string }
  | { type: 'open-recent'; kind: 'config' | 'folder'; path: string }
  | { type: 'clear-recent' }
  | { type: 'quit' }
  | { type: 'docs' }

/** Native roles: Electron supplies their behaviour (clipboard, zoom, reload); labels are ours. */
export type MenuRole =
  | 'undo'
  | 'redo'
  | 'cut'
  | 'copy'
  | 'paste'
  | 'selectAll'
  | 'reload'
  | 'toggleDevTools'
  | 'resetZoom'
  | 'zoomIn'
  | 'zoomOut'
  | 'togglefullscreen'

export type MenuNode =
  | { kind: 'item'; label: Msg; action: MenuAction; accelerator?: string; enabled?: boolean }
  | { kind: 'role'; role: MenuRole; label: Msg }
  | { kind: 'separator' }
  | { kind: 'submenu'; label: Msg; items: MenuNode[] }

export interface MenuInput {
  pages: ReadonlyArray<{ id: string; labelCode: string }>
  recent: { configs: readonly string[]; folders: readonly string[] }
  /** Developer tools only in development builds. */
  devTools: boolean
}

function command(c: AppCommand, label: string): MenuNode {
  const shortcut = COMMAND_SHORTCUTS.find((s) => s.command === c)
  return {
    kind: 'item',
    label: msg(label),
    action: { type: 'command', command: c },
    ...(shortcut ? { accelerator: shortcut.accelerator } : {}),
  }
}

function recentItems(kind: 'config' | 'folder', paths: readonly string[]): MenuNode[] {
  if (paths.length === 0)
    return [
      { kind: 'item', label: msg('menu.recentEmpty'), action: { type: 'clear-recent' }, enabled: false },
    ]
  // The path itself is the label (not translated): a path is a path in every language.
  return paths.map((path) => ({
    kind: 'item' as const,
    label: msg('menu.path', { path }),
    action: { type: 'open-recent' as const, kind, path },
  }))
}

export function appMenu(input: MenuInput): MenuNode[] {
  const anyRecent = input.recent.configs.length + input.recent.folders.length > 0
  return [
    {
      kind: 'submenu',
      label: msg('menu.file'),
      items: [
        command('open-config', 'menu.openConfig'),
        {
          kind: 'submenu',
          label: msg('menu.recentConfigs'),
          items: recentItems('config', input.recent.configs),
        },
        {
          kind: 'submenu',
          label: msg('menu.recentFolders'),
          items: recentItems('folder', input.recent.folders),
        },
        {
          kind: 'item',
          label: msg('menu.clearRecent'),
          action: { type: 'clear-recent' },
          enabled: anyRecent,
        },
        { kind: 'separator' },
        command('save-preset', 'menu.savePreset'),
        { kind: 'separator' },
        { kind: 'item', label: msg('menu.quit'), action: { type: 'quit' }, accelerator: 'CmdOrCtrl+Q' },
      ],
    },
    {
      kind: 'submenu',
      label: msg('menu.edit'),
      items: [
        { kind: 'role', role: 'undo', label: msg('menu.undo') },
        { kind: 'role', role: 'redo', label: msg('menu.redo') },
        { kind: 'separator' },
        { kind: 'role', role: 'cut', label: msg('menu.cut') },
        { kind: 'role', role: 'copy', label: msg('menu.copy') },
        { kind: 'role', role: 'paste', label: msg('menu.paste') },
        { kind: 'role', role: 'selectAll', label: msg('menu.selectAll') },
      ],
    },
    {
      kind: 'submenu',
      label: msg('menu.training'),
      items: [command('start', 'menu.start'), command('stop', 'menu.stop')],
    },
    {
      kind: 'submenu',
      label: msg('menu.go'),
      items: input.pages.map((p, i) => {
        const accelerator = pageAccelerator(i)
        return {
          kind: 'item' as const,
          label: msg(p.labelCode),
          action: { type: 'page' as const, page: p.id },
          ...(accelerator ? { accelerator } : {}),
        }
      }),
    },
    {
      kind: 'submenu',
      label: msg('menu.view'),
      items: [
        { kind: 'role', role: 'reload', label: msg('menu.reload') },
        ...(input.devTools
          ? [{ kind: 'role' as const, role: 'toggleDevTools' as const, label: msg('menu.devTools') }]
          : []),
        { kind: 'separator' },
        { kind: 'role', role: 'resetZoom', label: msg('menu.resetZoom') },
        { kind: 'role', role: 'zoomIn', label: msg('menu.zoomIn') },
        { kind: 'role', role: 'zoomOut', label: msg('menu.zoomOut') },
        { kind: 'separator' },
        { kind: 'role', role: 'togglefullscreen', label: msg('menu.fullscreen') },
      ],
    },
    {
      kind: 'submenu',
      label: msg('menu.help'),
      items: [{ kind: 'item', label: msg('menu.docs'), action: { type: 'docs' } }],
    },
  ]
}

/** Every message code a menu can use, for the translation test. */
export function menuCodes(nodes: readonly MenuNode[]): string[] {
  const out: string[] = []
  for (const n of nodes) {
    if (n.kind === 'separator') continue
    out.push(n.label.code)
    if (n.kind === 'submenu') out.push(...menuCodes(n.items))
  }
  return out
}
