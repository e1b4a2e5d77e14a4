// SPDX-License-Identifier: MIT
// The streaming scenario's one-call-per-line rows (prefix cache on, off, node-llama-cpp), each in
// a process of its own over the whole input, for several rounds with the order rotated each
// round, so the host's drift falls on every row alike. Single runs of one row have differed by
// up to 15% on these machines, and two classifiers alternating in one process slow each other
// (comparePrefixCache.ts), which falls hardest on the cheaper cached calls.
//   npx tsx scripts/bench/alternateStreamRows.ts <model.gguf> <lines.json> [rounds] [threads]
// <lines.json> is a lines array; the streaming scenario writes its input as <out>/work/streaming-<model>-round-1.json.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild } from './compileChild.js';

const [model, linesFile] = process.argv.slice(2, 4);
if (!model || !linesFile) throw new Error('usage: alternateStreamRows.ts <model.gguf> <lines.json> [rounds] [threads]');
const rounds = Number(process.argv[4] ?? 3);
const threads = Number(process.argv[5] ?? 2);
const work = mkdtempSync(join(tmpdir(), 'stream-rows-'));

const sequential = (options: object) => ({ model, linesFile, mode: 'sequential', batchSize: 1, batchTokens: 512, callers: 1, prefixSharing: true, threads, options });
const rows = [
  { name: 'prefix cache', script: 'contenderLogtriage.ts', payload: sequential({}) },
  { name: 'no prefix cache', script: 'contenderLogtriage.ts', payload: sequential({ prefixCache: false }) },
  { name: 'node-llama-cpp', script: 'contenderNodeLlamaCpp.ts', payload: { model, linesFile, threads } },
] as const;
type RowName = (typeof rows)[number]['name'];

const seconds = new Map<RowName, number[]>(rows.map((r) => [r.name, []]));
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[(i + round) % rows.length]!;
    const result = await runChild(row.script, row.payload, join(work, 'rss.txt'));
    seconds.get(row.name)!.push(result.seconds);
    const reused = result.tokensReused === undefined ? '' : `, ${result.tokensReused} of ${result.tokens} tokens reused`;
    console.error(`round ${round + 1}: ${row.name} ${result.seconds.toFixed(1)} s, ${(result.lines / result.seconds).toFixed(3)} lines/s${reused}`);
  }
}
const total = (name: RowName) => seconds.get(name)!.reduce((a, b) => a + b, 0);
const perRound = (a: RowName, b: RowName) => seconds.get(a)!.map((s, i) => +(seconds.get(b)![i]! / s).toFixed(3));
console.log(
  JSON.stringify({
    model, linesFile, rounds, threads,
    seconds: Object.fromEntries(seconds),
    cacheOnOverOff: { total: +(total('no prefix cache') / total('prefix cache')).toFixed(3), perRound: perRound('prefix cache', 'no prefix cache') },
    cacheOnOverNodeLlamaCpp: { total: +(total('node-llama-cpp') / total('prefix cache')).toFixed(3), perRound: perRound('prefix cache', 'node-llama-cpp') },
  }),
);
