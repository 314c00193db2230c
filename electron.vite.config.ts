import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import react from '@vitejs/plugin-react'
import {
  defineConfig,
  type MainViteConfig,
  type PreloadViteConfig,
  type RendererViteConfig,
} from 'electron-vite'
import type { Plugin } from 'vite'
import { quietAnnotations } from './scripts/build-warnings'

const pkg = JSON.parse(readFileSync(resolve(__dirname, 'package.json'), 'utf8')) as { version: string }

/** The React plugin's dev server injects an inline preamble; allow it in `npm run dev` only, never in builds. */
const devOnlyInlineScripts: Plugin = {
  name: 'sdxl-studio-dev-csp',
  apply: 'serve',
  transformIndexHtml: (html) => html.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"),
}

const main: MainViteConfig = {
  // The services read the version from here when bundled (electron/services/app-version.ts).
  define: { __SDXL_STUDIO_VERSION__: JSON.stringify(pkg.version) },
  build: {
    outDir: 'out/main',
    rollupOptions: {
      input: { index: resolve(__dirname, 'electron/main/index.ts') },
      // CommonJS, so Electron runs it synchronously at start: `sdxl-studio cli …` / `--serve` hand over
      // to Node before any window or display is set up (an ES module main is loaded later).
      output: { format: 'cjs', entryFileNames: '[name].cjs' },
      onwarn: quietAnnotations,
    },
  },
}

const preload: PreloadViteConfig = {
  build: {
    outDir: 'out/preload',
    // A sandboxed preload cannot require() other files: bundle everything into one CommonJS file.
    externalizeDeps: false,
    rollupOptions: {
      input: { index: resolve(__dirname, 'electron/preload/index.ts') },
      output: { format: 'cjs', entryFileNames: '[name].cjs' },
    },
  },
}

const renderer: RendererViteConfig = {
  root: resolve(__dirname, 'renderer'),
  plugins: [react(), devOnlyInlineScripts],
  build: {
    outDir: resolve(__dirname, 'out/renderer'),
    // electron-vite leaves the renderer unminified by default; headless mode serves it over the
    // network, and startup parses it, so minify. The manifest lets bench:startup size the entry chunk.
    minify: true,
    manifest: true,
    rollupOptions: { input: { index: resolve(__dirname, 'renderer/index.html') } },
  },
}

/*
 * `electron-vite build` makes the desktop app (main, preload, renderer). `--mode headless` makes only
 * the renderer: with the CLI bundle (vite.cli.config.ts) that is all headless mode needs.
 */
export default defineConfig(({ mode }) => (mode === 'headless' ? { renderer } : { main, preload, renderer }))
