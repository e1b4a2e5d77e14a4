// SPDX-License-Identifier: MIT
// The pure-JS tests alone (`npm run test:unit`): no native addon, no converted models, so no
// globalSetup. Everything else runs under vitest.config.ts, these included.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // GGUF loads (*.integration.test.ts), the addon itself, and conversions through its quantizer.
    exclude: ['test/**/*.integration.test.ts', 'test/binding/**', 'test/convert/convertCheckpoint*.test.ts'],
    pool: 'threads',
    reporters: ['default'],
  },
});
