// SPDX-License-Identifier: MIT
// The KV cache sized to the work (issue 17): the default context (batchTokens + prefix cache
// cells = 1,024 cells, longer lines in a context of their own) against the 2,048 cells it had
// before (max(maxTokens, batchTokens + cells)), set here through batchTokens 1,536: a call of one
// line never fills a batch, and llama.cpp sizes its compute graphs by ubatchTokens, which stays.
// One line per call, each variant in its own process (peak RSS from GNU time), alternating over rounds.
//   npx tsx scripts/bench/compareContextSize.ts <model.gguf> [lines] [threads] [rounds]
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild } from './compileChild.js';
import { streamingLines } from './streaming.js';

const model = process.argv[2]!;
const n = Number(process.argv[3] ?? 16);
const threads = Number(process.argv[4] ?? 2);
const rounds = Number(process.argv[5] ?? 2);
const loghub = new URL('../../../shared/data/loghub/', import.meta.url).pathname;
const files = readdirSync(loghub).filter((f) => f.endsWith('.log')).sort().map((f) => join(loghub, f));
let seed = 7;
const { lines } = streamingLines(files, n, 4, () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31));
const work = mkdtempSync(join(tmpdir(), 'ctx-size-'));
const linesFile = join(work, 'lines.json');
writeFileSync(linesFile, JSON.stringify(lines));
const variants = [
  { name: 'nCtx 1024 (default: batchTokens 512 + 512 cells)', options: {} },
  { name: 'nCtx 2048 (before: maxTokens; here batchTokens 1536 + 512 cells)', options: {}, batchTokens: 1536 },
];
const totals = variants.map(() => ({ seconds: 0, lines: 0, rss: 0 }));
for (let round = 0; round < rounds; round++) {
  for (const k of round % 2 ? [1, 0] : [0, 1]) {
    const payload = { model, linesFile, mode: 'sequential', batchSize: 1, batchTokens: variants[k]!.batchTokens ?? 512, callers: 1, prefixSharing: true, threads, options: variants[k]!.options };
    const result = await runChild('contenderLogtriage.ts', payload, join(work, 'rss.txt'));
    totals[k]!.seconds += result.seconds;
    totals[k]!.lines += result.lines;
    totals[k]!.rss = Math.max(totals[k]!.rss, result.peakRssMiB!);
    console.error(round, variants[k]!.name, result.seconds.toFixed(1), 's', result.peakRssMiB!.toFixed(0), 'MiB');
  }
}
console.log(JSON.stringify({ model, lines: n, threads, rounds, results: variants.map((v, k) => ({ name: v.name, linesPerS: +(totals[k]!.lines / totals[k]!.seconds).toFixed(3), peakRssMiB: +totals[k]!.rss.toFixed(1) })) }));
