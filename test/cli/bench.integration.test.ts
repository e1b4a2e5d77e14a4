// SPDX-License-Identifier: MIT
// `logtriage bench` measures this machine on a model and a log file (no timing is asserted).
import { describe, expect, it } from 'vitest';
import type { BenchRun } from '../../src/cli/commands/bench.js';
import { loghubFiles, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

describe('logtriage bench', () => {
  it('reports lines/s and tokens/s per batch size, with and without prefix sharing', async () => {
    const file = loghubFiles().find((f) => f.endsWith('Proxifier_2k.log'))!;
    const r = await runCli(['bench', file, '--model', tinyModel('f32'), '--lines', '24', '--batch-sizes', '1,8', '--threads', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { lines: number; runs: BenchRun[] };
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
  });

  it('a bad batch size is a usage error', async () => {
    const r = await runCli(['bench', loghubFiles()[0]!, '--model', tinyModel('f32'), '--batch-sizes', '0']);
    expect(r.code).toBe(2);
  });
});
