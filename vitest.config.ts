import { createRequire } from 'node:module'
import { defineConfig } from 'vitest/config'

const require = createRequire(import.meta.url)

export default defineConfig({
  resolve: {
    // graphql 16 ships CommonJS (main) and ESM (module). Node loads the CommonJS one for yoga and
    // us alike; Vite would hand our sources the ESM one, and two copies of graphql break
    // `instanceof GraphQLError` (every error would be masked). Pin the one Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }]
  },
  test: {
    include: ['test/**/*.test.ts'],
    // One PostgreSQL for the run (embedded, or TEST_DATABASE_URL); each test file gets its own database.
    globalSetup: ['test/helpers/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks'
  }
})
