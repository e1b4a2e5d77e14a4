// SPDX-License-Identifier: MIT
// Two llama.cpp engines side by side (issue 26): the pinned node-llama-cpp's libraries against a
// candidate's, on the same GGUFs, in one run. Each measurement is its own process (llama-bench,
// or a logtriage child with LOGTRIAGE_NATIVE_BINDING naming that engine's addon), and rounds
// interleave the engines in alternating order, so a shared machine's load falls on both alike.
// Per round and type: llama-bench at every decode size (one process, -r repetitions each), then
// logtriage one line at a time and batch 8 on the same sampled lines. Ratios are old time over
// new time (> 1: the new engine is faster); the load average sits beside every measurement.
//
//   npx tsx scripts/bench/compareEngines.ts \
//     --engine v0.4.0=<build-old>/Release/logtriage.node,<llama-tools dir of the old pin> \
//     --engine v0.5.0=build/Release/logtriage.node,<llama-tools dir of the new pin> \
//     --models f16,q8_0,q4_0,q4_k_m [--shape 1.5b] [--rounds 2] [--reps 2] [--lines 24] [--threads 2] [--out dir]
// How to produce the two engines is in docs/performance.md ("Moving the engine").
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compileChild } from './compileChild.js';
import { timed } from './llamaTools.js';
import { percentile, type ContenderResult } from './results.js';
import { streamingLines } from './streaming.js';
import { renderRateSvg, type RateSeries } from './rateCurve.js';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string', multiple: true },
    models: { type: 'string', default: 'f16,q8_0,q4_0,q4_k_m' },
    // qwen2-1.5b (the bench's) or qwen2-0.5b (a third of the work per token): files qwen2-<shape>-random-<type>.gguf.
    shape: { type: 'string', default: 'qwen2-1.5b' },
    sizes: { type: 'string', default: '1,2,4,8,16,32,64,512' },
    rounds: { type: 'string', default: '2' },
    reps: { type: 'string', default: '2' },
    lines: { type: 'string', default: '24' },
    threads: { type: 'string', default: String(Math.min(cpus().length, 4)) },
    // The bench's cached GGUFs: qwen2-1.5b-random-<type>.gguf (npm run bench -- --prepare --models ...; --shape qwen2-0.5b).
    'model-dir': { type: 'string' },
    out: { type: 'string', default: 'bench-results/engines' },
  },
});

interface Engine { name: string; addon: string; tools: string }
const engines: Engine[] = (args.engine ?? []).map((spec) => {
  const m = /^([^=]+)=([^,]+),(.+)$/.exec(spec);
  if (!m) throw new Error(`--engine must be name=<addon .node>,<llama-tools dir>, not '${spec}'`);
  return { name: m[1]!, addon: resolve(m[2]!), tools: resolve(m[3]!) };
});
if (engines.length !== 2) throw new Error('give exactly two --engine specs: the pinned one first, then the candidate');
const types = args.models.split(',');
const sizes = args.sizes.split(',').map(Number);
const rounds = Number(args.rounds);
const reps = Number(args.reps);
const threads = Number(args.threads);
const cacheDir = process.env.LOGTRIAGE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'logtriage');
const modelDir = resolve(args['model-dir'] ?? join(cacheDir, 'bench'));
const outDir = resolve(args.out);
mkdirSync(outDir, { recursive: true });
const log = (msg: string) => process.stderr.write(`[engines] ${msg}\n`);
const load1 = () => +loadavg()[0]!.toFixed(2);

const loghub = new URL('../../../shared/data/loghub/', import.meta.url).pathname;
const files = readdirSync(loghub).filter((f) => f.endsWith('.log')).sort().map((f) => join(loghub, f));
let seed = 26;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
// Time-ordered runs of 8 lines from each file in turn, as a stream arrives.
const { lines } = streamingLines(files, Number(args.lines) * rounds, 8, random);
const linesPerRound = Number(args.lines);

/**
 * ms per decode by size for one engine: the small sizes (≤ 64) in one llama-bench process with its
 * warm-up run, the large ones in a second without (a 512-token warm-up would double the run; the
 * weights are in the page cache by then and the graph cost is what is measured).
 */
async function engineCurve(engine: Engine, model: string): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (const [group, warmup] of [[sizes.filter((s) => s <= 64), true], [sizes.filter((s) => s > 64), false]] as const) {
    if (group.length === 0) continue;
    const r = await timed(
      [join(engine.tools, 'llama-bench'), '-m', model, '-p', group.join(','), '-n', '0', '-b', String(Math.max(...group)), '-ub', String(Math.max(...group)),
        '-t', String(threads), '-r', String(reps), '-o', 'json', ...(warmup ? [] : ['--no-warmup'])],
      join(outDir, 'rss.txt'),
    );
    for (const row of JSON.parse(r.stdout) as Array<{ n_prompt: number; avg_ns: number }>) out[row.n_prompt] = row.avg_ns / 1e6;
  }
  return out;
}

/** A logtriage child on `engine`'s addon: one line per call ('sequential') or batch 8. */
async function ours(engine: Engine, model: string, part: string[], mode: 'sequential' | 'batch'): Promise<ContenderResult> {
  const linesFile = join(outDir, 'lines.json');
  writeFileSync(linesFile, JSON.stringify(part));
  const batchSize = mode === 'batch' ? 8 : 1;
  const payload = { model, linesFile, mode, batchSize, batchTokens: 1024, callers: 1, prefixSharing: true, threads };
  const r = await timed([process.execPath, await compileChild('contenderLogtriage.ts'), JSON.stringify(payload)], join(outDir, 'rss.txt'), { LOGTRIAGE_NATIVE_BINDING: engine.addon });
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ContenderResult;
}

interface Sample { engine: string; type: string; round: number; load1: number }
const curves: Array<Sample & { msPerDecode: Record<number, number> }> = [];
const rows: Array<Sample & { mode: string; seconds: number; lines: number; p50?: number; p99?: number; latencies?: number[] }> = [];

await compileChild('contenderLogtriage.ts');
for (let round = 0; round < rounds; round++) {
  const part = lines.slice(round * linesPerRound, (round + 1) * linesPerRound);
  for (const [t, type] of types.entries()) {
    const model = join(modelDir, `${args.shape}-random-${type}.gguf`);
    // Alternate which engine goes first, by round and by type.
    const order = (round + t) % 2 === 0 ? engines : [...engines].reverse();
    for (const engine of order) {
      const before = load1();
      const msPerDecode = await engineCurve(engine, model);
      curves.push({ engine: engine.name, type, round, load1: before, msPerDecode });
      log(`round ${round + 1} ${type} ${engine.name} llama-bench (load ${before}): ${sizes.map((s) => `${s}:${(msPerDecode[s]! / s).toFixed(1)}`).join(' ')} ms/token`);
      for (const mode of ['sequential', 'batch'] as const) {
        const l = load1();
        const r = await ours(engine, model, part, mode);
        rows.push({ engine: engine.name, type, round, load1: l, mode, seconds: r.seconds, lines: r.lines, p50: r.latencyP50Ms, p99: r.latencyP99Ms });
        log(`round ${round + 1} ${type} ${engine.name} ${mode} (load ${l}): ${(r.lines / r.seconds).toFixed(2)} lines/s${r.latencyP50Ms ? `, p50 ${r.latencyP50Ms.toFixed(0)} ms` : ''}`);
      }
    }
  }
}

// Old time over new time, summed over rounds (> 1: the candidate is faster).
const [oldE, newE] = engines as [Engine, Engine];
const sumCurve = (engine: string, type: string, size: number) => curves.filter((c) => c.engine === engine && c.type === type).reduce((n, c) => n + c.msPerDecode[size]!, 0);
const sumRows = (engine: string, type: string, mode: string) => rows.filter((r) => r.engine === engine && r.type === type && r.mode === mode).reduce((n, r) => n + r.seconds, 0);
const loads = [...curves, ...rows].map((s) => s.load1);
const geomean = (xs: number[]) => Math.exp(xs.reduce((n, x) => n + Math.log(x), 0) / xs.length);
const table: string[] = [
  `| type | tokens per decode | ${oldE.name} ms/token | ${newE.name} ms/token | ${newE.name} speed vs ${oldE.name} |`,
  '|---|---:|---:|---:|---:|',
];
for (const type of types) {
  for (const size of sizes) {
    const o = sumCurve(oldE.name, type, size) / rounds, n = sumCurve(newE.name, type, size) / rounds;
    table.push(`| ${type.toUpperCase()} | ${size} | ${(o / size).toFixed(1)} | ${(n / size).toFixed(1)} | ${(o / n).toFixed(2)}× |`);
  }
  // Each round's old/new ratio at each size, pooled by geometric mean: on a loaded host single figures
  // swing by 2× and more, so this pooled ratio is the one to decide on.
  const perRound = curves.filter((c) => c.type === type && c.engine === oldE.name).flatMap((o) => {
    const n = curves.find((c) => c.type === type && c.engine === newE.name && c.round === o.round)!;
    return sizes.map((size) => o.msPerDecode[size]! / n.msPerDecode[size]!);
  });
  table.push(`| ${type.toUpperCase()} | all sizes, geometric mean of ${perRound.length} per-round ratios | | | **${geomean(perRound).toFixed(2)}×** |`);
  for (const mode of ['sequential', 'batch']) {
    const o = sumRows(oldE.name, type, mode), n = sumRows(newE.name, type, mode);
    const label = mode === 'batch' ? 'logtriage batch 8' : 'logtriage one line per call';
    const lps = (s: number) => ((linesPerRound * rounds) / s).toFixed(2);
    table.push(`| ${type.toUpperCase()} | ${label} | ${lps(o)} lines/s | ${lps(n)} lines/s | ${(o / n).toFixed(2)}× |`);
  }
}
const p = (engine: string, type: string, q: 'p50' | 'p99') => percentile(rows.filter((r) => r.engine === engine && r.type === type && r.mode === 'sequential').map((r) => r[q]!), q === 'p50' ? 50 : 100);
const series: RateSeries[] = types.map((type) => ({
  name: type.toUpperCase(),
  points: sizes.map((size) => ({ tokens: size, msPerToken: sumCurve(newE.name, type, size) / rounds / size })),
}));
const report = {
  date: new Date().toISOString(),
  command: `npx tsx scripts/bench/compareEngines.ts ${process.argv.slice(2).join(' ')}`,
  machine: `${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} logical CPUs)`,
  threads, rounds, reps, linesPerRound, engines,
  load1: { min: Math.min(...loads), max: Math.max(...loads) },
  curves, rows,
  oneLine: Object.fromEntries(types.map((type) => [type, Object.fromEntries(engines.map((e) => [e.name, { p50Ms: p(e.name, type, 'p50'), worstRoundP99Ms: p(e.name, type, 'p99') }]))])),
};
writeFileSync(join(outDir, 'engines.json'), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(outDir, 'rate-curve.svg'), renderRateSvg(`${args.shape}-shaped, ${newE.name}, ${threads} threads: ms per token by tokens per decode`, series));
const md = `${table.join('\n')}\n\n${rounds} rounds interleaved, llama-bench -r ${reps}, ${linesPerRound} lines per round, ${threads} threads; 1-minute load average ${report.load1.min}–${report.load1.max} during the run.\n`;
writeFileSync(join(outDir, 'engines.md'), md);
process.stdout.write(md);
