// SPDX-License-Identifier: MIT
// The prefix cache side by side in one process: the same model, one context with the prefix cache, one without;
// each line is classified by both, alternating which goes first; also the largest logit difference.
// Two classifiers alternating in one process are slower per call than one (6-15% measured), which
// weighs more on the cheaper cached calls: for the speed ratio, alternateStreamRows.ts is the figure of record.
//   npx tsx scripts/bench/comparePrefixCache.ts <model.gguf> [log file] [lines] [threads] [cells]
// A .json file is a lines array (the streaming scenario writes its input as <out>/work/streaming-<model>-round-1.json):
// its first [lines] lines are taken, where a log file's are taken from its 101st line.
import { readFileSync } from 'node:fs';
import { LogClassifier } from '../../src/index.js';
const model = process.argv[2]!;
const file = process.argv[3] ?? new URL('../../../shared/data/loghub/Apache_2k.log', import.meta.url).pathname;
const n = Number(process.argv[4] ?? 8);
const threads = Number(process.argv[5] ?? 1);
const cells = process.argv[6] === undefined ? undefined : Number(process.argv[6]);
const lines = file.endsWith('.json') ? (JSON.parse(readFileSync(file, 'utf8')) as string[]).slice(0, n) : readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).slice(100, 100 + n);
const on = await LogClassifier.open(model, { threads, gpu: 'cpu', resultCache: 0, ...(cells === undefined ? {} : { prefixCache: { cells } }) });
const off = await LogClassifier.open(model, { threads, gpu: 'cpu', resultCache: 0, prefixCache: false });
const ms = { on: 0, off: 0 };
let maxDiff = 0;
for (const [i, line] of lines.entries()) {
  const order = i % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const);
  const r: Record<string, number[]> = {};
  for (const k of order) {
    const t = performance.now();
    r[k] = (await (k === 'on' ? on : off).classify(line)).logits;
    ms[k] += performance.now() - t;
  }
  maxDiff = Math.max(maxDiff, ...r.on!.map((x, j) => Math.abs(x - r.off![j]!)));
  console.error(i, JSON.stringify(ms));
}
console.log(JSON.stringify({ file, lines: n, threads, msOn: ms.on, msOff: ms.off, speedup: ms.off / ms.on, maxDiff, on: on.stats(), off: off.stats() }));
await on.dispose();
await off.dispose();
