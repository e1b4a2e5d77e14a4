// SPDX-License-Identifier: MIT
// CI runs the benchmark in smoke mode: it must run end to end and write its report (no timing
// is asserted; performance lives in `npm run bench`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../../scripts/bench/report.js';
import { repoRoot } from '../fixtures/index.js';

describe('npm run bench -- --smoke', () => {
  it('runs every contender on the tiny model and writes JSON, Markdown and SVG', () => {
    const out = mkdtempSync(join(tmpdir(), 'logtriage-bench-'));
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'bench', 'bench.ts'), '--smoke', '--lines', '6', '--threads', '2', '--out', out], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')) as BenchReport;
    expect(report.sample.lines).toBe(6);
    const [model] = report.models;
    const names = model!.contenders.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['logtriage batch 1', 'logtriage batch 8, no prefix sharing', 'logtriage 50 concurrent callers', 'node-llama-cpp getEmbeddingFor']));
    for (const c of model!.contenders) {
      expect(c.linesPerS > 0 || c.engineTokensPerS! > 0, c.name).toBe(true);
      expect(c.peakRssMiB, c.name).toBeGreaterThan(0);
    }
    // Every logtriage run classified every sampled line and counted its tokens.
    for (const c of model!.contenders.filter((c) => c.name.startsWith('logtriage'))) expect(c.lines, c.name).toBe(6);
    expect(Object.keys(report.prefixSavings)).toHaveLength(10);
    expect(readFileSync(join(out, 'bench.md'), 'utf8')).toContain('| logtriage batch 1 |');
    expect(readdirSync(out).filter((f) => f.endsWith('.svg'))).toHaveLength(1);
    expect(existsSync(join(out, 'bench.json'))).toBe(true);
  });
});
