import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  appMenu,
  COMMAND_SHORTCUTS,
  menuCodes,
  pageAccelerator,
  SHORTCUT_PAGES,
  type MenuNode,
} from '../../core/desktop/app-commands'
import { renderer } from '../../electron/main/strings'

const pages = SHORTCUT_PAGES.map((id) => ({ id, labelCode: `common:nav.${id}` }))

function items(nodes: readonly MenuNode[]): MenuNode[] {
  return nodes.flatMap((n) => (n.kind === 'submenu' ? [n, ...items(n.items)] : [n]))
}

describe('app menu and shortcuts', () => {
  const menu = appMenu({
    pages,
    recent: { configs: ['/c/a.toml'], folders: ['D:\\data\\10_кот & пёс'] },
    devTools: false,
  })

  it('has Start, Stop, Save preset, Open config and every page, each with a distinct shortcut', () => {
    const all = items(menu)
    const accelerators = all.flatMap((n) => (n.kind === 'item' && n.accelerator ? [n.accelerator] : []))
    expect(new Set(accelerators).size).toBe(accelerators.length)
    for (const s of COMMAND_SHORTCUTS) {
      const item = all.find(
        (n) => n.kind === 'item' && n.action.type === 'command' && n.action.command === s.command,
      )
      expect(item && item.kind === 'item' ? item.accelerator : null, s.command).toBe(s.accelerator)
    }
    for (const [i, id] of SHORTCUT_PAGES.entries()) {
      const item = all.find((n) => n.kind === 'item' && n.action.type === 'page' && n.action.page === id)
      expect(item && item.kind === 'item' ? item.accelerator : null).toBe(`CmdOrCtrl+${i + 1}`)
    }
    expect(pageAccelerator(9)).toBeUndefined()
  })

  it('switches to the pages in the order the navigation lists them (Ctrl+1 is the first entry)', () => {
    const app = readFileSync(new URL('../../renderer/src/App.tsx', import.meta.url), 'utf8')
    const nav = [...app.matchAll(/\{ id: '([\w-]+)', labelKey: 'nav\./g)].map((m) => m[1])
    expect(nav.length).toBeGreaterThan(5)
    expect([...SHORTCUT_PAGES]).toEqual(nav)
  })

  it('lists recent configs and folders as they are, and greys out empty lists', () => {
    const recent = items(menu).filter((n) => n.kind === 'item' && n.action.type === 'open-recent')
    expect(recent.map((n) => (n.kind === 'item' ? n.action : null))).toEqual([
      { type: 'open-recent', kind: 'config', path: '/c/a.toml' },
      { type: 'open-recent', kind: 'folder', path: 'D:\\data\\10_кот & пёс' },
    ])
    const empty = appMenu({ pages, recent: { configs: [], folders: [] }, devTools: false })
    const disabled = items(empty).filter((n) => n.kind === 'item' && n.enabled === false)
    expect(disabled).toHaveLength(3) // two "(none)" entries and "Clear recent"
  })

  it('shows developer tools only in development builds', () => {
    const roles = (m: MenuNode[]) => items(m).flatMap((n) => (n.kind === 'role' ? [n.role] : []))
    expect(roles(menu)).not.toContain('toggleDevTools')
    expect(roles(appMenu({ pages, recent: { configs: [], folders: [] }, devTools: true }))).toContain(
      'toggleDevTools',
    )
  })

  it('has every label in English and Russian (no key shown as text, no English left in Russian)', () => {
    const codes = menuCodes(appMenu({ pages, recent: { configs: [], folders: [] }, devTools: true }))
    expect(codes.length).toBeGreaterThan(25)
    for (const language of ['en', 'ru'] as const) {
      const t = renderer(language)
      for (const code of codes) {
        const text = t({ code })
        expect(text, `${language}:${code}`).not.toBe(code.replace(/^common:/, ''))
        expect(text.trim(), `${language}:${code}`).not.toBe('')
        if (language === 'ru') expect(text, code).toMatch(/[А-Яа-яЁё]|^GPU$|^\(/)
      }
    }
  })
})
