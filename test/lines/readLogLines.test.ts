// SPDX-License-Identifier: MIT
// readLogLines: line ends (LF, CRLF, lone CR, across chunks) and the byte cap: a long line keeps
// its first maxLineBytes (cut at a character boundary), is flagged truncated, and the next line
// is read as usual however the input is chunked. No timing here: scripts/bench/longLine.ts.
import { describe, expect, it } from 'vitest';
import { cutAtCharBoundary, DEFAULT_MAX_LINE_BYTES, readLogLines, type LogLine } from '../../src/lines/readLogLines.js';

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(bytes: Uint8Array, size: number, maxLineBytes?: number): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of readLogLines(chunks(bytes, size), maxLineBytes === undefined ? {} : { maxLineBytes })) lines.push(line);
  return lines;
}

describe('readLogLines()', () => {
  it('splits on LF, CRLF and a lone CR, whatever the chunk size', async () => {
    const input = Buffer.from('a\nbb\r\nccc\rdddd\r\n\neee');
    for (const size of [1, 2, 3, 5, 64]) {
      const lines = await read(input, size);
      expect(lines.map((l) => l.text), `chunks of ${size}`).toEqual(['a', 'bb', 'ccc', 'dddd', '', 'eee']);
      expect(lines.map((l) => l.lineNumber)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(lines.every((l) => !l.truncated && !l.invalidUtf8)).toBe(true);
    }
  });

  it('keeps the first maxLineBytes of a longer line, flags it truncated and reads the next line whole', async () => {
    const input = Buffer.from(`short\n${'x'.repeat(1000)}\r\nafter\n${'y'.repeat(40)}`);
    for (const size of [1, 7, 100, 4096]) {
      const lines = await read(input, size, 16);
      expect(lines.map((l) => [l.lineNumber, l.text, l.truncated]), `chunks of ${size}`).toEqual([
        [1, 'short', false],
        [2, 'x'.repeat(16), true],
        [3, 'after', false],
        [4, 'y'.repeat(16), true],
      ]);
    }
  });

  it('a line of exactly maxLineBytes is whole', async () => {
    const lines = await read(Buffer.from(`${'z'.repeat(16)}\n${'z'.repeat(16)}`), 5, 16);
    expect(lines.map((l) => l.truncated)).toEqual([false, false]);
  });

  it('cuts a truncated line at a character boundary, so the kept text is valid UTF-8', async () => {
    // 'é' is two bytes: a cap of 5 falls inside the third one.
    const lines = await read(Buffer.from('éééé\nok'), 3, 5);
    expect(lines.map((l) => [l.text, l.truncated, l.invalidUtf8])).toEqual([
      ['éé', true, false],
      ['ok', false, false],
    ]);
    expect(Buffer.from(cutAtCharBoundary(Buffer.from('a€', 'utf8').subarray(0, 3))).toString()).toBe('a');
    expect(Buffer.from(cutAtCharBoundary(Buffer.from('a€', 'utf8'))).toString()).toBe('a€');
  });

  it('has a cap of a few MiB by default', async () => {
    expect(DEFAULT_MAX_LINE_BYTES).toBe(4 * 1024 * 1024);
    const long = Buffer.alloc(DEFAULT_MAX_LINE_BYTES + 10, 0x61);
    const lines = await read(Buffer.concat([long, Buffer.from('\nnext')]), 64 * 1024);
    expect(lines.map((l) => [l.text.length, l.truncated])).toEqual([
      [DEFAULT_MAX_LINE_BYTES, true],
      [4, false],
    ]);
  });
});
