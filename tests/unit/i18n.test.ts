import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { en, namespaces } from '../../renderer/src/i18n/resources'
import { ru } from '../../renderer/src/i18n/resources-ru'

/*
 * Keeps the translations complete: every key in one language exists in the other, and every key the
 * renderer uses (found statically in its source) exists in English.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const srcDir = path.join(repoRoot, 'renderer/src')
const localesDir = path.join(srcDir, 'i18n/locales')
const languages = readdirSync(localesDir).filter((d) => statSync(path.join(localesDir, d)).isDirectory())
const DEFAULT_NS = 'common'
const PLURAL_SUFFIXES = ['_zero', '_one', '_two', '_few', '_many', '_other']

type Json = string | number | boolean | null | Json[] | { [k: string]: Json }

function readNamespace(language: string, ns: string): Json {
  return JSON.parse(readFileSync(path.join(localesDir, language, `${ns}.json`), 'utf8')) as Json
}

function namespaceFiles(language: string): string[] {
  return readdirSync(path.join(localesDir, language))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort()
}

/** Dotted paths of every leaf string, e.g. nav.gpu. */
export function leafKeys(value: Json, prefix = ''): Map<string, Json> {
  const out = new Map<string, Json>()
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      for (const [kk, vv] of leafKeys(v, prefix ? `${prefix}.${k}` : k)) out.set(kk, vv)
    }
  } else {
    out.set(prefix, value)
  }
  return out
}

/** A plural form's base key (imagesHere_few → imagesHere); other keys unchanged. */
function pluralBase(key: string): string {
  const suffix = PLURAL_SUFFIXES.find((s) => key.endsWith(s))
  return suffix ? key.slice(0, -suffix.length) : key
}

function interpolations(text: string): string[] {
  return [...text.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1] ?? '').sort()
}

export interface KeyUse {
  key: string
  /** Namespaces the key may come from: its ns: prefix, or the useTranslation list in force. */
  namespaces: string[]
  line: number
}

/**
 * Finds static translation keys in one source file: t('key'), t('ns:key'), i18next.t('key'),
 * <Trans i18nKey="key"> and labelKey: 'key'. A key without a prefix belongs to the nearest useTranslation(...) above it
 * (react-i18next looks through that list in order); with no useTranslation in the file it may come
 * from any namespace (a `t` handed in as a prop). Keys built at run time (`failed.${kind}`) are skipped.
 */
export function findKeyUses(source: string, allNamespaces: readonly string[]): KeyUse[] {
  const hooks: Array<{ at: number; namespaces: string[] }> = []
  for (const m of source.matchAll(/useTranslation\(\s*(?:(['"])([\w-]+)\1|\[([^\]]*)\])?/g)) {
    const list = m[2] ? [m[2]] : m[3] ? [...m[3].matchAll(/['"]([\w-]+)['"]/g)].map((x) => x[1] ?? '') : []
    hooks.push({ at: m.index, namespaces: list.length ? list : [DEFAULT_NS] })
  }
  const uses: KeyUse[] = []
  // t('…'), i18n.t('…'), <Trans i18nKey="…">, and { labelKey: '…' } (keys kept in data, e.g. the nav).
  const calls =
    /(?<![\w$.])(?:i18n(?:ext)?\.)?t\(\s*(['"`])((?:(?!\1)[^\\$\n])+)\1|i18nKey=(['"])([^'"]+)\3|\blabelKey:\s*(['"])([^'"]+)\5/g
  for (const m of source.matchAll(calls)) {
    const raw = m[2] ?? m[4] ?? m[6] ?? ''
    const line = source.slice(0, m.index).split('\n').length
    const colon = raw.indexOf(':')
    if (colon > 0 && allNamespaces.includes(raw.slice(0, colon))) {
      uses.push({ key: raw.slice(colon + 1), namespaces: [raw.slice(0, colon)], line })
      continue
    }
    const hook = hooks.filter((h) => h.at < m.index).at(-1) ?? hooks[0]
    uses.push({ key: raw, namespaces: hook ? hook.namespaces : [...allNamespaces], line })
  }
  return uses
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return e.name === 'locales' ? [] : sourceFiles(p)
    return /\.(ts|tsx)$/.test(e.name) ? [p] : []
  })
}

describe('translations', () => {
  it('has English and Russian', () => {
    expect(languages.sort()).toEqual(['en', 'ru'])
  })

  it('has the same namespace files in every language, all wired into resources.ts', () => {
    const expected = namespaceFiles('en')
    for (const language of languages) expect(namespaceFiles(language), language).toEqual(expected)
    expect([...namespaces].sort()).toEqual(expected)
    expect(Object.keys(ru).sort()).toEqual(expected)
    // The wired objects are the files on disk (not stale copies).
    for (const ns of namespaces) {
      expect(en[ns]).toEqual(readNamespace('en', ns))
      expect(ru[ns]).toEqual(readNamespace('ru', ns))
    }
  })

  for (const ns of namespaceFiles('en')) {
    it(`${ns}: same keys, non-empty strings and the same {{placeholders}} in every language`, () => {
      const english = leafKeys(readNamespace('en', ns))
      for (const language of languages.filter((l) => l !== 'en')) {
        const other = leafKeys(readNamespace(language, ns))
        // Plural forms differ by language (English: one/other; Russian: one/few/many/other): compared by
        // their base key, and each language must have all of its own forms.
        const base = (k: string) => {
          const b = pluralBase(k)
          // Only a real plural family (one with an _other form), not a key like te_lr_zero.
          return b !== k && (english.has(`${b}_other`) || other.has(`${b}_other`)) ? b : k
        }
        const englishBase = new Set([...english.keys()].map(base))
        const otherBase = new Set([...other.keys()].map(base))
        const missing = [...englishBase].filter((k) => !otherBase.has(k))
        const extra = [...otherBase].filter((k) => !englishBase.has(k))
        expect({ missing, extra }, `${language}/${ns}.json vs en/${ns}.json`).toEqual({
          missing: [],
          extra: [],
        })
        for (const k of [...otherBase].filter((b) => [...other.keys()].some((x) => x !== b && base(x) === b)))
          for (const form of new Intl.PluralRules(language).resolvedOptions().pluralCategories)
            expect(other.has(`${k}_${form}`), `${language}:${ns}:${k}_${form}`).toBe(true)
        for (const [key, text] of other) {
          const enText = english.get(key) ?? english.get(`${base(key)}_other`)
          expect(typeof text === 'string' && text.trim() !== '', `${language}:${ns}:${key}`).toBe(true)
          if (typeof text === 'string' && typeof enText === 'string') {
            expect(interpolations(text), `${language}:${ns}:${key} placeholders`).toEqual(
              interpolations(enText),
            )
          }
        }
      }
      for (const [key, text] of english) {
        expect(typeof text === 'string' && text.trim() !== '', `en:${ns}:${key}`).toBe(true)
      }
    })
  }

  it('has every key used in renderer/src in English', () => {
    const english = new Map(namespaceFiles('en').map((ns) => [ns, leafKeys(readNamespace('en', ns))]))
    const has = (ns: string, key: string) => {
      const keys = english.get(ns)
      return !!keys && (keys.has(key) || PLURAL_SUFFIXES.some((s) => keys.has(key + s)))
    }
    const problems: string[] = []
    let checked = 0
    for (const file of sourceFiles(srcDir)) {
      for (const use of findKeyUses(readFileSync(file, 'utf8'), [...english.keys()])) {
        checked++
        if (!use.namespaces.some((ns) => has(ns, use.key))) {
          problems.push(
            `${path.relative(repoRoot, file)}:${use.line}: '${use.key}' is in none of [${use.namespaces.join(', ')}]`,
          )
        }
      }
    }
    expect(problems).toEqual([])
    // The scan must actually see the app's strings, or it proves nothing.
    expect(checked).toBeGreaterThan(20)
  })
})

describe('translation key scanner', () => {
  const all = ['common', 'gpu', 'settings']

  it('resolves keys against the nearest useTranslation list and honours ns: prefixes', () => {
    const source = [
      "const { t } = useTranslation(['gpu', 'common'])",
      "t('title'); t('common:loading'); t(\"nested.key\", { n: 1 })",
      'function Other() {',
      "  const { t } = useTranslation('settings')",
      "  return t(`theme.label`) + i18next.t('x') + t(`failed.${kind}`)",
      '}',
      '<Trans i18nKey="settings:about" />',
    ].join('\n')
    expect(findKeyUses(source, all)).toEqual([
      { key: 'title', namespaces: ['gpu', 'common'], line: 2 },
      { key: 'loading', namespaces: ['common'], line: 2 },
      { key: 'nested.key', namespaces: ['gpu', 'common'], line: 2 },
      { key: 'theme.label', namespaces: ['settings'], line: 5 },
      { key: 'x', namespaces: ['settings'], line: 5 },
      { key: 'about', namespaces: ['settings'], line: 7 },
    ])
  })

  it('defaults to common for useTranslation() and ignores look-alikes', () => {
    const source = [
      "const pages = [{ id: 'gpu', labelKey: 'nav.gpu' }]",
      "const { t } = useTranslation()\nt('appName'); format('x'); obj.t('y'); it('z')",
    ].join('\n')
    expect(findKeyUses(source, all)).toEqual([
      { key: 'nav.gpu', namespaces: ['common'], line: 1 },
      { key: 'appName', namespaces: ['common'], line: 3 },
    ])
  })

  it('lists nested keys as dotted paths', () => {
    expect([...leafKeys({ a: 'x', b: { c: 'y', d: { e: 'z' } } }).keys()]).toEqual(['a', 'b.c', 'b.d.e'])
  })
})
