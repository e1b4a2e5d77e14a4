// SPDX-License-Identifier: MIT
// The pure-JS tests alone (`npm run test:unit`): no native addon, no converted models, no CLI
// child processes, so no globalSetup. Everything else runs under vitest.config.ts, these included.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Left to the full suite: GGUF loads and the addon's quantizer (*.integration.test.ts), the
    // addon loader, and whole checkpoint conversions (pure JS, but seconds to tens of seconds each).
    exclude: ['test/**/*.integration.test.ts', 'test/engine/binding/**', 'test/convert/convertCheckpoint*.test.ts'],
    pool: 'threads',
    // One module cache for all files: these tests hold no process-wide state, and isolation
    // (a fresh import graph per file) was two thirds of the time (17 s against 8 s on 2 cores).
    isolate: false,
    // They take milliseconds to seconds; the margin is for loaded CI machines (pullModel's beforeAll writes checkpoints).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
