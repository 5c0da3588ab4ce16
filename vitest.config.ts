import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure logic, no Docker, runs on Node 20 and Node 24)
 * and `integration` (real Docker engine, real Pitlane server processes).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Plain output whatever the CI environment says (picocolors turns colours on when CI is set).
          env: { NO_COLOR: '1' },
          // Property-based tests run thousands of cases; on a loaded 2-core machine they need room.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          env: { NO_COLOR: '1' },
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
