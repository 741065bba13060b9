import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          // Generous liveness bounds: a real API server, garbage collector and kwok are involved.
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: one file at a time keeps the plane responsive and timings honest.
          fileParallelism: false,
        },
      },
    ],
  },
});
