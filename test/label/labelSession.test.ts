// SPDX-License-Identifier: MIT
// LabelSession on its output file, without a browser: a resumed random session goes on in the
// order the last one was in, from where it stopped; a row never joins an unterminated last line;
// every answer is one whole JSON line. test/cli/label.integration.test.ts drives the page.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { LabelSession } from '../../src/label/labelSession.js';
import { artifactsDir } from '../fixtures/index.js';

const dir = join(artifactsDir, 'label-session');
const log = join(dir, 'app.log');
const output = join(dir, 'labeled.jsonl');
// Twelve templates: words, not numbers, tell them apart (templateOf masks numbers).
const LINES = ['alpha up', 'bravo down', 'charlie lost', 'delta found', 'echo sent', 'foxtrot read', 'golf wrote', 'hotel moved', 'india closed', 'juliet opened', 'kilo denied', 'lima granted'];
const labels = ['A', 'B'];
const openSession = () => LabelSession.open({ files: [log], labels, output, mode: 'random', seed: 5 });

beforeEach(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(log, `${LINES.join('\n')}\n`);
});

describe('LabelSession resume', () => {
  it('random: a second session offers the first one\'s order less its labeled lines, skipped ones in their place', async () => {
    const first = await openSession();
    const order = first.offered().map((o) => o.text);
    expect([...order].sort()).toEqual([...LINES].sort());
    await first.label(0, 'A');
    await first.label(1, 'B');
    first.skip(2);
    await first.label(3, 'A');
    const second = await openSession();
    expect(second.offered().map((o) => o.text)).toEqual(order.filter((_, i) => i !== 0 && i !== 1 && i !== 3));
    expect(second.state()).toMatchObject({ index: 0, text: order[2], labeled: 3, remaining: LINES.length - 3 });
  });

  it('adds a newline before its first row when the file ends without one, and writes whole JSON lines', async () => {
    writeFileSync(output, JSON.stringify({ text: 'by hand', label: 'A' }));
    const session = await openSession();
    const [first, second] = session.offered().map((o) => o.text);
    await session.label(0, 'B');
    await session.label(1, 'A');
    expect(readFileSync(output, 'utf8')).toBe(
      [{ text: 'by hand', label: 'A' }, { text: first, label: 'B', mode: 'random' }, { text: second, label: 'A', mode: 'random' }].map((r) => `${JSON.stringify(r)}\n`).join(''),
    );
    // Undo rewrites the file: the rows left are whole lines still.
    await session.undo();
    expect(readFileSync(output, 'utf8')).toBe([{ text: 'by hand', label: 'A' }, { text: first, label: 'B', mode: 'random' }].map((r) => `${JSON.stringify(r)}\n`).join(''));
  });

  it('refuses a file whose last line was cut short (no newline, not valid JSON), saying what to do, and writes nothing', async () => {
    const cut = `${JSON.stringify({ text: 'whole', label: 'A' })}\n{"text":"half a ro`;
    writeFileSync(output, cut);
    await expect(openSession()).rejects.toThrow(/line 2: not valid JSON.*ends without a newline.*cut short.*remove it and start again/);
    expect(readFileSync(output, 'utf8')).toBe(cut);
    // An invalid line elsewhere is the plain error.
    writeFileSync(output, '{"text":"x","label":\n{"text":"y","label":"A"}\n');
    await expect(openSession()).rejects.toThrow(/line 1: not valid JSON \([^)]*\)$/);
  });
});
