// SPDX-License-Identifier: MIT
// rateCurve.ts: interpolation, the advice read off measured curves, and the cache round trip.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adviseFromCurves, curvesFor, msAt, readRateCurves, saveRateCurve, type RateCurve } from '../../src/cli/rateCurve.js';

const machine = { cpu: 'Test CPU x2', threads: 2, backend: 'CPU', llamaRelease: 'v0.5.0' };
function curve(weightType: string, points: Array<[number, number]>, lineTokens = 32, path = `/m/${weightType}.gguf`): RateCurve {
  return {
    model: { path, sizeBytes: 100, mtimeMs: 1, weightType, nEmbd: 1536, nLayers: 28 },
    machine,
    lineTokens,
    measuredAt: '2026-12-06T20:00:00.000Z',
    points: points.map(([tokens, msPerDecode]) => ({ tokens, msPerDecode })),
  };
}
// The shape measured on 2 cores (Q8_0: 56 ms for 1 token, 427 for 32, 806 for 64), and a Q4_0 that
// is quicker per line but flattens later.
const Q8 = curve('Q8_0', [[1, 56], [2, 111], [4, 180], [8, 250], [16, 300], [32, 427], [64, 806]]);
const Q4 = curve('Q4_0', [[1, 40], [2, 80], [4, 120], [8, 200], [16, 280], [32, 400], [64, 700]]);

describe('msAt()', () => {
  it('returns measured points, interpolates between them and extrapolates by the end ms/token', () => {
    expect(msAt(Q8, 32)).toBe(427);
    expect(msAt(Q8, 48)).toBeCloseTo((427 + 806) / 2, 6);
    expect(msAt(Q8, 128)).toBeCloseTo(806 * 2, 6);
    expect(() => msAt(curve('F16', []), 4)).toThrow(RangeError);
  });
});

describe('adviseFromCurves()', () => {
  it('advises the type quickest for one line for latency and the lowest ms/token for throughput, at the knee', () => {
    const advice = adviseFromCurves([Q8, Q4])!;
    expect(advice.typesCompared.sort()).toEqual(['Q4_0', 'Q8_0']);
    expect(advice.latency).toMatchObject({ weightType: 'Q4_0', tokensPerDecode: 32, ms: 400 });
    // Q4_0 reaches 10.9 ms/token at 64 (its best); Q8_0's best is 12.6 at 64: Q4_0, and 64 is the first within 10%.
    expect(advice.throughput).toMatchObject({ weightType: 'Q4_0', tokensPerDecode: 64 });
    expect(advice.throughput.ms).toBeCloseTo(700 / 64, 6);
  });

  it('groups two lines per decode for latency only when the curve shows it costs almost nothing', () => {
    const flat = curve('F16', [[1, 50], [16, 52], [32, 55], [64, 60], [128, 200]], 16);
    expect(adviseFromCurves([flat])!.latency.tokensPerDecode).toBe(32);
    expect(adviseFromCurves([Q8])!.latency.tokensPerDecode).toBe(32);
  });

  it('says so when only one type was measured, and gives no advice without curves', () => {
    expect(adviseFromCurves([Q8])!.latency.why).toMatch(/only Q8_0 measured/);
    expect(adviseFromCurves([])).toBeUndefined();
  });
});

describe('rate curve cache', () => {
  it('keeps one curve per file, machine and engine, and curvesFor() drops changed files and other machines', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'curves-')), 'rate-curves.json');
    saveRateCurve(Q8, file);
    saveRateCurve({ ...Q8, measuredAt: '2026-12-06T21:00:00.000Z' }, file);
    saveRateCurve({ ...Q4, machine: { ...machine, threads: 1 } }, file);
    const curves = readRateCurves(file);
    expect(curves).toHaveLength(2);
    const stat = (path: string) => (path === Q8.model.path ? { size: 100, mtimeMs: 1 } : path === Q4.model.path ? { size: 100, mtimeMs: 2 } : undefined);
    const mine = curvesFor({ nEmbd: 1536, nLayers: 28 }, machine, curves, stat);
    expect(mine.map((c) => c.measuredAt)).toEqual(['2026-12-06T21:00:00.000Z']);
    expect(curvesFor({ nEmbd: 896, nLayers: 24 }, machine, curves, stat)).toEqual([]);
  });
});
