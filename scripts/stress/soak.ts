// SPDX-License-Identifier: MIT
// Soak test: classifies many unique log lines (loghub lines, numbered so the result cache cannot
// answer them) with default options and a few concurrent callers, then checks that resident
// memory stopped growing after warm-up (< 5%) and that no handle or native model was left
// behind. Prints a JSON report on stdout; exits 1 when a limit is passed.
// `samples` leave the warm-up out: the first 10% of lines (at least 2,000) fill the result
// cache, the malloc arenas and V8's code space.
//
//   npm run soak                     # 100,000 lines on the tiny test model
//   npm run soak -- --lines 10000 --model path/to/model.gguf --threads 4 --max-rss-growth 0.05
//   npm run soak -- --lines 10000 --max-chars 100   # the CI run: shorter lines, same code paths
//
// One llama.cpp thread by default: on a shared or busy machine, more threads than free cores
// spin-wait on each other and the run takes ten times longer, to no benefit for a leak check.

import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { loadBinding } from '../../src/engine/binding.js';
import { LogClassifier } from '../../src/index.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const { values: args } = parseArgs({
  options: {
    lines: { type: 'string', default: '100000' },
    'warm-up': { type: 'string' },
    model: { type: 'string', default: join(root, 'test-artifacts', 'models', 'qwen2-tiny-f32.gguf') },
    threads: { type: 'string', default: '1' },
    callers: { type: 'string', default: '4' },
    'lines-per-call': { type: 'string', default: '250' },
    'max-chars': { type: 'string' },
    'max-rss-growth': { type: 'string', default: '0.05' },
  },
});
const total = Number(args.lines);
const warmUp = Number(args['warm-up'] ?? Math.max(2000, Math.round(total * 0.1)));
const callers = Number(args.callers);
const linesPerCall = Number(args['lines-per-call']);
const maxRssGrowth = Number(args['max-rss-growth']);
const maxChars = args['max-chars'] === undefined ? Infinity : Number(args['max-chars']);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('soak: run with node --expose-gc (npm run soak does)\n');
  process.exit(2);
}
const liveModels = () => loadBinding().liveModels();

/** Collects garbage until native finalizers have run; RSS is only comparable after it. */
async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Active libuv handles and requests, by type. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

/** Lines of every loghub system, interleaved so that any stretch of the run mixes them. */
function loghubLines(): string[] {
  const dir = join(root, '..', 'shared', 'data', 'loghub');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => readFileSync(join(dir, f), 'utf8').split(/\r\n|\r|\n/).filter((l) => l.trim().length > 0));
  const longest = Math.max(0, ...files.map((f) => f.length));
  const lines = Array.from({ length: longest }, (_, i) => files.flatMap((f) => (i < f.length ? [f[i]!] : []))).flat();
  if (lines.length === 0) throw new Error(`soak: no log lines in ${dir}`);
  return lines;
}

const pool = loghubLines();
let next = 0;
const takeLines = (n: number) => Array.from({ length: n }, () => `#${next} ${pool[next++ % pool.length]!.slice(0, maxChars)}`);

const started = performance.now();
const clf = await LogClassifier.open(args.model, { threads: Number(args.threads) });

/** Classifies `count` lines with `callers` concurrent callers; returns the lines done. */
async function run(count: number): Promise<number> {
  let done = 0;
  const caller = async () => {
    while (done < count) {
      const n = Math.min(linesPerCall, count - done);
      done += n;
      const results = await clf.classifyMany(takeLines(n));
      if (results.length !== n || !results.every((r) => Number.isFinite(r.score))) throw new Error('soak: a batch came back incomplete');
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  return count;
}

await run(warmUp);
await settle();
const warm = { rssMiB: rssMiB(), handles: handles(), heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20 };

// RSS after a full collection at 20 points after warm-up. A leak is a trend, so the figure
// compares the median of the last quarter of samples with the median of the first quarter:
// single samples move by a few MB either way as malloc arenas and V8 pages come and go.
const samples: number[] = [];
const chunk = Math.max(400, Math.round((total - warmUp) / 20));
for (let done = warmUp; done < total; ) {
  done += await run(Math.min(chunk, total - done));
  await settle();
  samples.push(Math.round(rssMiB() * 10) / 10);
}
const end = { rssMiB: rssMiB(), handles: handles(), heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20 };
const liveWhileOpen = liveModels();
await clf.dispose();
await settle();
const liveAfterDispose = liveModels();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quarter = Math.max(1, Math.floor(samples.length / 4));
const early = median(samples.slice(0, quarter));
const late = median(samples.slice(-quarter));
const rssGrowth = (late - early) / early;
const grownHandles = Object.entries(end.handles).filter(([type, n]) => n > (warm.handles[type] ?? 0));
const failures = [
  ...(rssGrowth >= maxRssGrowth ? [`RSS grew ${(rssGrowth * 100).toFixed(2)}% after warm-up (limit ${maxRssGrowth * 100}%)`] : []),
  ...grownHandles.map(([type, n]) => `${type} handles grew from ${warm.handles[type] ?? 0} to ${n}`),
  ...(liveWhileOpen !== 1 ? [`${liveWhileOpen} models alive while one classifier was open`] : []),
  ...(liveAfterDispose !== 0 ? [`${liveAfterDispose} models alive after dispose()`] : []),
];
const report = {
  model: args.model,
  lines: total,
  warmUpLines: warmUp,
  maxChars: Number.isFinite(maxChars) ? maxChars : null,
  seconds: Math.round((performance.now() - started) / 100) / 10,
  rss: { warmMiB: Math.round(warm.rssMiB * 10) / 10, earlyMiB: early, lateMiB: late, growth: Math.round(rssGrowth * 10_000) / 10_000, samplesMiB: samples },
  heapUsedMiB: { warm: Math.round(warm.heapUsedMiB * 10) / 10, end: Math.round(end.heapUsedMiB * 10) / 10 },
  handles: { warm: warm.handles, end: end.handles },
  liveModels: { whileOpen: liveWhileOpen, afterDispose: liveAfterDispose },
  failures,
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exitCode = failures.length > 0 ? 1 : 0;
