// SPDX-License-Identifier: MIT
// The engine's rate curve on this machine (issue 26): what one decode of N tokens costs, for a
// model's weight type, as measured by `logtriage bench` (measureRateCurve.ts) and kept in the
// cache (<cache>/rate-curves.json), and the advice `info --plan` derives from it: which type and
// how many tokens per decode for one-line latency and for throughput. On a CPU the cost per token
// falls several-fold from 1-token to 32–64-token decodes, and the shape differs by type and CPU,
// so the advice is read off measured curves, never a constant.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDirFromEnv } from '../hub/readHubSettings.js';

export interface RatePoint {
  tokens: number;
  /** Wall time of one decode of `tokens` tokens (one line, prefix sharing off), the quickest of a few. */
  msPerDecode: number;
}

export interface RateCurve {
  /** The model file measured, and what identifies that file's content cheaply. */
  model: { path: string; sizeBytes: number; mtimeMs: number; weightType: string; nEmbd: number; nLayers: number };
  /** Where it was measured: the curve belongs to this CPU, thread count and engine. */
  machine: { cpu: string; threads: number; backend: string; llamaRelease: string };
  /** Median tokens per line of the file `bench` read (the one-line decode size). */
  lineTokens: number;
  measuredAt: string;
  points: RatePoint[];
}

/** ms per decode at `tokens`, interpolated linearly between measured sizes (extrapolated by the last ms/token). */
export function msAt(curve: Pick<RateCurve, 'points'>, tokens: number): number {
  const pts = [...curve.points].sort((a, b) => a.tokens - b.tokens);
  if (pts.length === 0) throw new RangeError('a rate curve needs at least one point');
  const exact = pts.find((p) => p.tokens === tokens);
  if (exact) return exact.msPerDecode;
  if (tokens < pts[0]!.tokens) return (pts[0]!.msPerDecode / pts[0]!.tokens) * tokens;
  const last = pts.at(-1)!;
  if (tokens > last.tokens) return (last.msPerDecode / last.tokens) * tokens;
  const hi = pts.findIndex((p) => p.tokens > tokens);
  const a = pts[hi - 1]!, b = pts[hi]!;
  return a.msPerDecode + ((tokens - a.tokens) / (b.tokens - a.tokens)) * (b.msPerDecode - a.msPerDecode);
}

export interface TypeAdvice {
  weightType: string;
  /** The model file whose curve gave it. */
  path: string;
  tokensPerDecode: number;
  /** Latency: ms for one line alone. Throughput: ms per token at that decode size. */
  ms: number;
  why: string;
}

export interface RateAdvice {
  latency: TypeAdvice;
  throughput: TypeAdvice;
  /** Weight types compared (one curve each, the newest per type). */
  typesCompared: string[];
}

/** Within this fraction of the fastest ms/token counts as "at the plateau". */
const PLATEAU = 1.1;

/**
 * Which type and decode size to use, from curves of models with the same shape measured on this
 * machine. Latency: the type whose decode of one line (its median tokens) is quickest; a line per
 * decode unless the curve shows a decode of two lines costs almost no more (then grouping is free).
 * Throughput: the type with the lowest ms/token, at the smallest decode within 10% of its best.
 */
export function adviseFromCurves(curves: readonly RateCurve[]): RateAdvice | undefined {
  const newest = new Map<string, RateCurve>();
  for (const c of curves) {
    const prev = newest.get(c.model.weightType);
    if (!prev || prev.measuredAt < c.measuredAt) newest.set(c.model.weightType, c);
  }
  const list = [...newest.values()].filter((c) => c.points.length > 0);
  if (list.length === 0) return undefined;
  const compared = list.map((c) => c.model.weightType);
  const others = compared.length > 1 ? ` among ${compared.join(', ')}` : ` (only ${compared[0]} measured here: bench another type's file to compare)`;

  const lat = list.map((c) => ({ c, ms: msAt(c, c.lineTokens) })).sort((a, b) => a.ms - b.ms)[0]!;
  const one = lat.ms, two = msAt(lat.c, 2 * lat.c.lineTokens);
  const groupFree = two <= one * 1.15;
  const latency: TypeAdvice = {
    weightType: lat.c.model.weightType,
    path: lat.c.model.path,
    tokensPerDecode: groupFree ? 2 * lat.c.lineTokens : lat.c.lineTokens,
    ms: one,
    why: `a ${lat.c.lineTokens}-token line costs ${one.toFixed(1)} ms alone, the least${others}; ${groupFree ? `two lines in one decode cost ${two.toFixed(1)} ms, so grouping them costs latency little` : `two lines in one decode cost ${two.toFixed(1)} ms, so one line per decode`}`,
  };

  const best = list.map((c) => {
    const perToken = c.points.map((p) => ({ tokens: p.tokens, ms: p.msPerDecode / p.tokens })).sort((a, b) => a.tokens - b.tokens);
    const min = Math.min(...perToken.map((p) => p.ms));
    const knee = perToken.find((p) => p.ms <= min * PLATEAU)!;
    return { c, knee, min };
  }).sort((a, b) => a.min - b.min)[0]!;
  const oneToken = best.c.points.find((p) => p.tokens === 1);
  const throughput: TypeAdvice = {
    weightType: best.c.model.weightType,
    path: best.c.model.path,
    tokensPerDecode: best.knee.tokens,
    ms: best.knee.ms,
    why: `${best.knee.ms.toFixed(2)} ms/token from ${best.knee.tokens} tokens per decode (within 10% of its best, ${best.min.toFixed(2)})${oneToken ? ` against ${oneToken.msPerDecode.toFixed(1)} for a 1-token decode` : ''}, the least${others}: batchTokens ≥ ${best.knee.tokens} (≈ ${Math.max(1, Math.round(best.knee.tokens / best.c.lineTokens))} lines per decode)`,
  };
  return { latency, throughput, typesCompared: compared };
}

/** Where measured curves are kept: <cache>/rate-curves.json (LOGTRIAGE_CACHE_DIR, XDG_CACHE_HOME). */
export function rateCurveFile(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(cacheDirFromEnv(env), 'rate-curves.json');
}

export function readRateCurves(file = rateCurveFile()): RateCurve[] {
  if (!existsSync(file)) return [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { curves?: RateCurve[] };
    return Array.isArray(parsed.curves) ? parsed.curves : [];
  } catch {
    // A damaged cache file only costs a re-measure: `bench` rewrites it whole.
    return [];
  }
}

/** Adds `curve`, replacing an earlier one of the same file, machine and engine; written atomically. */
export function saveRateCurve(curve: RateCurve, file = rateCurveFile()): void {
  const same = (c: RateCurve) => c.model.path === curve.model.path && c.machine.cpu === curve.machine.cpu && c.machine.threads === curve.machine.threads && c.machine.backend === curve.machine.backend && c.machine.llamaRelease === curve.machine.llamaRelease;
  const curves = [...readRateCurves(file).filter((c) => !same(c)), curve];
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify({ curves }, null, 2)}\n`);
  renameSync(tmp, file);
}

/**
 * The curves that describe `model` on this machine now: measured on this CPU, thread count, backend
 * and engine, of files that are unchanged and have the model's shape (any weight type).
 */
export function curvesFor(
  model: { nEmbd: number; nLayers: number },
  machine: RateCurve['machine'],
  curves: readonly RateCurve[],
  stat: (path: string) => { size: number; mtimeMs: number } | undefined,
): RateCurve[] {
  return curves.filter((c) => {
    const s = stat(c.model.path);
    return s !== undefined && s.size === c.model.sizeBytes && s.mtimeMs === c.model.mtimeMs &&
      c.model.nEmbd === model.nEmbd && c.model.nLayers === model.nLayers &&
      c.machine.cpu === machine.cpu && c.machine.threads === machine.threads && c.machine.backend === machine.backend && c.machine.llamaRelease === machine.llamaRelease;
  });
}
