import { Menu, type MenuItemConstructorOptions } from 'electron'
import type { MenuAction, MenuNode } from '../../core/desktop/app-commands'
import type { Render } from './strings'

/**
 * The native menu from the menu model (core/desktop/app-commands.ts). Only the mapping lives here;
 * `onAction` carries out what a click means.
 */
export function nativeMenu(
  nodes: readonly MenuNode[],
  render: Render,
  onAction: (a: MenuAction) => void,
): Menu {
  const convert = (n: MenuNode): MenuItemConstructorOptions => {
    switch (n.kind) {
      case 'separator':
        return { type: 'separator' }
      case 'role':
        return { role: n.role, label: render(n.label) }
      case 'submenu':
        return { label: render(n.label), submenu: n.items.map(convert) }
      case 'item':
        return {
          // A path is shown as written: '&' would otherwise mark a keyboard mnemonic.
          label: n.action.type === 'open-recent' ? render(n.label).replace(/&/g, '&&') : render(n.label),
          ...(n.accelerator ? { accelerator: n.accelerator } : {}),
          enabled: n.enabled ?? true,
          click: () => onAction(n.action),
        }
    }
  }
  return Menu.buildFromTemplate(nodes.map(convert))
}
