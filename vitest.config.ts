import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Where vitest keeps each file's last duration, to start the longest first: under .build/, which
  // npm ci leaves alone (node_modules/.vite, the default, goes with every install).
  cacheDir: '.build/vite',
  resolve: {
    // graphql 16 has no "exports": Node loads its CommonJS build (so do Apollo, graphql-ws and graphql-armor),
    // while Vite would pick the "module" build for our sources: two graphql realms, and instanceof checks fail.
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Vitest's default leaves a core to itself (one worker on a 2-core box), but it only waits
    // for results; test files spend much of their time waiting on PostgreSQL, sockets and processes.
    maxWorkers: availableParallelism(),
    // Each worker imports the gateway's modules (Apollo, Prisma, graphql) once, not once per file:
    // about 45 s less CPU in a run. Test files share no state but what src/ holds, and
    // src/ keeps none at module level (DESIGN.md: pass dependencies in).
    isolate: false,
    // PGlite starts a WebAssembly PostgreSQL per test file; give slow machines room.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
