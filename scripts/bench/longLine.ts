// SPDX-License-Identifier: MIT
// How long readLogLines takes, and how much memory it holds, on one very long line fed in the
// 64 KiB chunks of a file stream: with the default cap (4 MiB kept, the rest skipped) and with a
// cap above the line (the whole line kept). Issue 29 measured 2.2 s for 8 MB and 25 s for 32 MB
// before the reader stopped re-copying its carry per chunk. `npx tsx scripts/bench/longLine.ts`
import { readLogLines } from '../../src/lines/readLogLines.js';

const CHUNK = 64 * 1024;

async function* chunks(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += CHUNK) yield bytes.subarray(i, i + CHUNK);
}

for (const mb of [8, 32]) {
  const input = Buffer.alloc(mb * 1024 * 1024 + 6, 0x61);
  input.write('\nnext\n', input.length - 6);
  for (const maxLineBytes of [undefined, input.length]) {
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const lengths: number[] = [];
    for await (const line of readLogLines(chunks(input), maxLineBytes === undefined ? {} : { maxLineBytes })) lengths.push(line.text.length);
    const ms = performance.now() - started;
    const rssMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    const cap = maxLineBytes === undefined ? 'default cap' : 'no cap';
    console.log(`${mb} MB line, ${cap}: ${ms.toFixed(0)} ms, lines ${lengths.join(',')}, rss +${rssMiB.toFixed(0)} MiB`);
  }
}
