// SPDX-License-Identifier: MIT
// `logtriage bench` measures this machine on a model and a log file (no timing is asserted).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchRun } from '../../src/cli/commands/bench.js';
import { RATE_CURVE_SIZES } from '../../src/cli/measureRateCurve.js';
import { readRateCurves, type RateCurve } from '../../src/cli/rateCurve.js';
import { loghubFiles, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

describe('logtriage bench', () => {
  it('reports lines/s and tokens/s per batch size, with and without prefix sharing', async () => {
    const file = loghubFiles().find((f) => f.endsWith('Proxifier_2k.log'))!;
    const cache = mkdtempSync(join(tmpdir(), 'bench-cache-'));
    const env = { ...process.env, LOGTRIAGE_CACHE_DIR: cache };
    const r = await runCli(['bench', file, '--model', tinyModel('f32'), '--lines', '24', '--batch-sizes', '1,8', '--threads', '2', '--json'], undefined, 180_000, env);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { lines: number; runs: BenchRun[]; curve: RateCurve };
    expect(report.lines).toBe(24);
    expect(report.runs.map((x) => [x.batchSize, x.prefixSharing])).toEqual([[1, true], [1, false], [8, true], [8, false]]);
    for (const run of report.runs) {
      expect(run.lines).toBe(24);
      expect(run.linesPerSecond).toBeGreaterThan(0);
      expect(run.tokens).toBe(report.runs[0]!.tokens);
      if (!run.prefixSharing) expect(run.tokensDecoded).toBe(run.tokens);
      else expect(run.tokensDecoded).toBeLessThanOrEqual(run.tokens);
    }
    // Proxifier lines share long prefixes: a batch of 8 decodes fewer tokens than it classifies.
    expect(report.runs[2]!.tokensDecoded).toBeLessThan(report.runs[2]!.tokens);

    // The rate curve: one decode per size, saved where `info --plan` reads it, which then advises from it.
    expect(report.curve.points.map((p) => p.tokens)).toEqual(RATE_CURVE_SIZES);
    for (const p of report.curve.points) expect(p.msPerDecode).toBeGreaterThan(0);
    expect(report.curve.model.weightType).toBe('F32');
    expect(readRateCurves(join(cache, 'rate-curves.json'))).toEqual([report.curve]);
    const info = await runCli(['info', tinyModel('f32'), '--plan', '--json'], undefined, 60_000, env);
    expect(info.code, info.stderr).toBe(0);
    const { advice } = JSON.parse(info.stdout) as { advice: { advice?: { latency: { weightType: string; tokensPerDecode: number }; throughput: { tokensPerDecode: number } } } };
    expect(advice.advice?.latency.weightType).toBe('F32');
    expect(RATE_CURVE_SIZES).toContain(advice.advice!.throughput.tokensPerDecode);
  }, 240_000);

  it('a bad batch size is a usage error', async () => {
    const r = await runCli(['bench', loghubFiles()[0]!, '--model', tinyModel('f32'), '--batch-sizes', '0']);
    expect(r.code).toBe(2);
  });
});
