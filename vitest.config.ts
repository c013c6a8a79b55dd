import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // servers that tests start (in process or as `netra serve`) run side by side: no fixed OTLP/gRPC port unless a test asks
    env: { NETRA_OTLP_GRPC_PORT: '0' },
  },
});
