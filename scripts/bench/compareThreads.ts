// SPDX-License-Identifier: MIT
// Thread counts side by side in one process (for busy hosts): the same lines, one classifier per
// thread count, each line classified by all of them in rotating order. Relative figures only.
//   npx tsx scripts/bench/compareThreads.ts <model.gguf> [lines] [threads,threads...]
import { readFileSync } from 'node:fs';
import { LogClassifier } from '../../src/index.js';
const model = process.argv[2]!;
const n = Number(process.argv[3] ?? 30);
const counts = (process.argv[4] ?? '1,2').split(',').map(Number);
const lines = readFileSync(new URL('../../../shared/data/loghub/Linux_2k.log', import.meta.url), 'utf8').split('\n').filter((l) => l.trim()).slice(0, n);
const clfs = await Promise.all(counts.map((threads) => LogClassifier.open(model, { threads, gpu: 'cpu', resultCache: 0, prefixCache: false })));
const ms = counts.map(() => 0);
for (const [i, line] of lines.entries()) {
  for (let k = 0; k < counts.length; k++) {
    const j = (k + i) % counts.length;
    const t = performance.now();
    await clfs[j]!.classify(line);
    ms[j]! += performance.now() - t;
  }
}
console.log(JSON.stringify({ model, lines: n, msPerLine: Object.fromEntries(counts.map((c, j) => [`threads ${c}`, +(ms[j]! / n).toFixed(1)])) }));
for (const c of clfs) await c.dispose();
