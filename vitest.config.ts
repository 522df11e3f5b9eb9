import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Threads load compiled code (dist/workers): build once before any test.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // 2 cores: test files that start worker threads should not all run at once.
    maxWorkers: 2,
    pool: 'forks',
  },
});
