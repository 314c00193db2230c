import { defineConfig } from 'vitest/config'

/** The packaged-layout test (npm run test:packaged): needs `npm run build` first, builds the dir target. */
export default defineConfig({
  test: {
    include: ['tests/packaged/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 1,
  },
})
