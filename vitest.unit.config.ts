// SPDX-License-Identifier: MIT
// The pure-JS tests alone (`npm run test:unit`): no native addon, no converted models, so no
// globalSetup. Everything else runs under vitest.config.ts, these included.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Left to the full suite: GGUF loads and the addon's quantizer (*.integration.test.ts), the
    // addon loader, and whole checkpoint conversions (pure JS, but seconds to tens of seconds each).
    exclude: ['test/**/*.integration.test.ts', 'test/binding/**', 'test/convert/convertCheckpoint*.test.ts'],
    pool: 'threads',
    // They take milliseconds to seconds; the margin is for loaded CI machines (pullModel's beforeAll writes checkpoints).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
