// SPDX-License-Identifier: MIT
// followLogLines (tail -F) in-process: appended lines, a partial line completed later, rotation by
// rename + recreate, truncation, a file that appears late, and a clean end on abort. Waits are
// bounded by a deadline that fails the test; nothing asserts on timing.
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followLogLines, mergeSources } from '../../src/lines/followFile.js';
import { chunkWhenIdle, type LogLine } from '../../src/lines/readLogLines.js';

const DEADLINE_MS = 15_000;

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const end = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function follow(path: string) {
  const controller = new AbortController();
  const lines: LogLine[] = [];
  const notices: string[] = [];
  const done = (async () => {
    for await (const line of followLogLines(path, { signal: controller.signal, pollMs: 50, onNotice: (m) => notices.push(m) })) lines.push(line);
  })();
  const texts = () => lines.map((l) => `${l.lineNumber}:${l.text}`);
  return { controller, lines, notices, done, texts };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logtriage-follow-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('followLogLines()', () => {
  it('reads the file, then appended lines, across a rotation and a truncation, until aborted', async () => {
    const path = join(dir, 'app.log');
    writeFileSync(path, 'one\r\ntwo\n');
    const f = follow(path);
    await waitFor('the first two lines', () => f.lines.length === 2);

    appendFileSync(path, 'three\npart');
    await waitFor('the appended line', () => f.lines.length === 3);
    appendFileSync(path, 'ial\n');
    await waitFor('the completed partial line', () => f.lines.length === 4);

    renameSync(path, `${path}.1`);
    appendFileSync(`${path}.1`, 'late write to the old file\n');
    writeFileSync(path, 'new one\nnew two\n');
    await waitFor('the rotated file', () => f.lines.length === 7);

    writeFileSync(path, '');
    await waitFor('the truncation notice', () => f.notices.some((n) => n.includes('truncated')));
    appendFileSync(path, 'after truncate\n');
    await waitFor('the line after truncation', () => f.lines.length === 8);

    f.controller.abort();
    await f.done;
    expect(f.texts()).toEqual(['1:one', '2:two', '3:three', '4:partial', '5:late write to the old file', '1:new one', '2:new two', '1:after truncate']);
    expect(f.notices.some((n) => n.includes('rotated'))).toBe(true);
  });

  it('keeps the first maxLineBytes of a long line and reads on from the next line', async () => {
    const path = join(dir, 'long.log');
    writeFileSync(path, `${'x'.repeat(300_000)}\nafter\n`);
    const controller = new AbortController();
    const lines: LogLine[] = [];
    const done = (async () => {
      for await (const line of followLogLines(path, { signal: controller.signal, pollMs: 50, maxLineBytes: 1000 })) lines.push(line);
    })();
    await waitFor('both lines', () => lines.length === 2);
    controller.abort();
    await done;
    expect(lines.map((l) => [l.lineNumber, l.text.length, l.truncated])).toEqual([
      [1, 1000, true],
      [2, 5, false],
    ]);
  });

  it('waits for a file that does not exist yet', async () => {
    const path = join(dir, 'later.log');
    const f = follow(path);
    await waitFor('the waiting notice', () => f.notices.length === 1);
    expect(f.notices[0]).toMatch(/waiting for .*later\.log/);
    writeFileSync(path, 'hello\n');
    await waitFor('the line', () => f.lines.length === 1);
    f.controller.abort();
    await f.done;
    expect(f.texts()).toEqual(['1:hello']);
  });
});

describe('mergeSources()', () => {
  it('interleaves sources as items arrive and keeps each source in order', async () => {
    async function* slow(prefix: string, n: number, ms: number) {
      for (let i = 0; i < n; i++) {
        await new Promise((r) => setTimeout(r, ms));
        yield `${prefix}${i}`;
      }
    }
    const out: string[] = [];
    for await (const item of mergeSources([slow('a', 4, 5), slow('b', 3, 7)])) out.push(item);
    expect(out.filter((s) => s.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(out.filter((s) => s.startsWith('b'))).toEqual(['b0', 'b1', 'b2']);
  });
});

describe('chunkWhenIdle()', () => {
  it('fills chunks from ready items and hands on a partial chunk when the source waits', async () => {
    async function* source() {
      for (let i = 0; i < 5; i++) yield i; // ready at once
      await new Promise((r) => setTimeout(r, 30)); // waits on a timer, as on I/O
      yield 5;
    }
    const chunks: number[][] = [];
    for await (const chunk of chunkWhenIdle(source(), 3)) chunks.push(chunk);
    expect(chunks).toEqual([[0, 1, 2], [3, 4], [5]]);
  });
});
