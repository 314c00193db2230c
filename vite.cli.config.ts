import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineConfig, type Plugin } from 'vite'
import { quietAnnotations } from './scripts/build-warnings'

/*
 * The CLI and headless mode as one Node bundle: out/cli/index.js. `npm run build` makes it after the
 * Electron bundles; the installed app runs it as Node (`sdxl-studio cli …`, `sdxl-studio --serve`).
 *
 * Everything is bundled except node-pty (a native module, loaded at run time from node_modules), so
 * the bundle runs from app.asar.unpacked with plain file access: no asar support needed, which a
 * Node started through Electron's binary may not have for ES modules.
 */

const pkg = JSON.parse(readFileSync(resolve(__dirname, 'package.json'), 'utf8')) as { version: string }

/** out/cli/package.json marks index.js as an ES module wherever it lands (no package.json above it when installed). */
const moduleMarker: Plugin = {
  name: 'sdxl-studio-cli-module-marker',
  generateBundle() {
    this.emitFile({ type: 'asset', fileName: 'package.json', source: '{ "type": "module" }\n' })
  },
}

export default defineConfig({
  define: { __SDXL_STUDIO_VERSION__: JSON.stringify(pkg.version) },
  plugins: [moduleMarker],
  ssr: { noExternal: true, external: ['node-pty', 'sharp'], target: 'node' },
  build: {
    ssr: resolve(__dirname, 'electron/cli/main.ts'),
    outDir: 'out/cli',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: false,
    reportCompressedSize: false,
    // ws tries its optional native helpers inside try/catch; bundled, they would resolve to an empty
    // stand-in and break every WebSocket frame. Left as require() (undefined in an ES module), ws
    // falls back to its JavaScript code, as it does when they are not installed.
    commonjsOptions: { ignore: ['bufferutil', 'utf-8-validate'] },
    rollupOptions: {
      output: { format: 'es', entryFileNames: 'index.js', inlineDynamicImports: true },
      onwarn: quietAnnotations,
    },
  },
})
