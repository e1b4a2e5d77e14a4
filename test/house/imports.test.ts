// SPDX-License-Identifier: MIT
// The house rules (.dependency-cruiser.cjs): no import circles, every import points down. Runs
// dependency-cruiser over src/ as `npm run imports` does; a rule broken names the file and import.
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/index.js';
import { createRequire } from 'node:module';
import { join } from 'node:path';

describe('src/ imports', () => {
  it('break none of the house rules, over every module', async () => {
    const config = createRequire(import.meta.url)(join(repoRoot, '.dependency-cruiser.cjs'));
    const cwd = process.cwd();
    process.chdir(repoRoot);
    let result: ICruiseResult;
    try {
      result = (await cruise(['src'], { ruleSet: config, ...config.options, validate: true })).output as ICruiseResult;
    } finally {
      process.chdir(cwd);
    }
    // An empty cruise (a resolution problem) must not pass as a clean one.
    expect(result.summary.totalCruised).toBeGreaterThan(150);
    expect(config.forbidden.length).toBeGreaterThanOrEqual(6);
    expect(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });
});
