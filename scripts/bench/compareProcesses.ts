// SPDX-License-Identifier: MIT
// Several logtriage processes on one host at once (issue 17, busy hosts): for each thread
// setting, N processes each classify their own lines one call per line, started together; the
// figure is all their lines over the wall time until the last one ends. Settings run one after
// the other, alternating over rounds.
//   npx tsx scripts/bench/compareProcesses.ts <model.gguf> [processes] [lines each] [settings, e.g. auto,1,2] [rounds]
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileChild, runChild } from './compileChild.js';
import { streamingLines } from './streaming.js';

const model = process.argv[2]!;
const processes = Number(process.argv[3] ?? 2);
const perProcess = Number(process.argv[4] ?? 8);
const settings = (process.argv[5] ?? 'auto,1,2').split(',').map((s) => (s === 'auto' ? 'auto' : Number(s)));
const rounds = Number(process.argv[6] ?? 1);
const loghub = new URL('../../../shared/data/loghub/', import.meta.url).pathname;
const files = readdirSync(loghub).filter((f) => f.endsWith('.log')).sort().map((f) => join(loghub, f));
let seed = 11;
const { lines } = streamingLines(files, processes * perProcess, perProcess, () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31));
const work = mkdtempSync(join(tmpdir(), 'processes-'));
// Compiled before the children start together, so they do not each build it.
await compileChild('contenderLogtriage.ts');
const totals = settings.map(() => ({ lines: 0, seconds: 0 }));
for (let round = 0; round < rounds; round++) {
  const order = settings.map((_, i) => i);
  if (round % 2) order.reverse();
  for (const k of order) {
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: processes }, async (_, p) => {
      const linesFile = join(work, `lines-${p}.json`);
      writeFileSync(linesFile, JSON.stringify(lines.slice(p * perProcess, (p + 1) * perProcess)));
      const payload = { model, linesFile, mode: 'sequential', batchSize: 1, batchTokens: 512, callers: 1, prefixSharing: true, threads: settings[k] };
      return runChild('contenderLogtriage.ts', payload, join(work, `rss-${p}.txt`));
    }));
    // Loads are not timed: the children start together, so their classification runs overlap but
    // for load-time differences (a second or two, beside minutes of classification on the 1.5B).
    const seconds = Math.max(...results.map((r) => r.seconds));
    totals[k]!.lines += results.reduce((n, r) => n + r.lines, 0);
    totals[k]!.seconds += seconds;
    console.error(round, `threads ${settings[k]}`, `${seconds.toFixed(1)} s`, `wall ${((performance.now() - started) / 1000).toFixed(1)} s`, results.map((r) => r.threads));
  }
}
console.log(JSON.stringify({ model, processes, perProcess, rounds, linesPerS: Object.fromEntries(settings.map((s, k) => [`threads ${s}`, +(totals[k]!.lines / totals[k]!.seconds).toFixed(3)])) }));
