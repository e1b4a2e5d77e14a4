// SPDX-License-Identifier: MIT
// `logtriage classify` over every loghub sample in one run (its own file, so it runs beside the
// smaller CLI tests): one record per non-blank line, in input order, with the line's own number
// and text, as JSON Lines when stdout is a pipe. The Apache sample mixes line endings.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loghubFiles, splitLogLines, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

const engine = ['--model', tinyModel('q8_0'), '--threads', '1'];
const LABELS = ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error'];
const parseJsonl = (s: string) => s.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
/** `${lineNumber}:${text}` of every non-blank line, as the CLI should number them. */
const expectedLines = (text: string) => splitLogLines(text).flatMap((line, i) => (/^\s*$/u.test(line) ? [] : [`${i + 1}:${line}`]));

describe('logtriage classify on the loghub samples', () => {
  it('classifies every non-blank line of every loghub file, in input order, as JSON Lines when piped', async () => {
    const files = loghubFiles();
    expect(files).toHaveLength(10);
    const { code, stdout, stderr } = await runCli(['classify', ...files, ...engine, '--text', '--scores'], undefined, 400_000);
    expect(code, stderr).toBe(0);
    const records = parseJsonl(stdout);
    let total = 0;
    for (const file of files) {
      const expected = expectedLines(readFileSync(file, 'utf8'));
      const got = records.filter((r) => r.file === file);
      expect(got.map((r) => `${r.line}:${r.text}`), basename(file)).toEqual(expected);
      total += expected.length;
    }
    expect(records).toHaveLength(total);
    // Files come out one after another, in the order given.
    expect(records.map((r) => r.file)).toEqual(files.flatMap((f) => Array<string>(records.filter((r) => r.file === f).length).fill(f)));
    for (const r of records) {
      expect(Object.keys(r.scores)).toEqual(LABELS);
      expect(r.score).toBe(Math.max(...(Object.values(r.scores) as number[])));
      expect(r.scores[r.label]).toBe(r.score);
    }
    expect(stderr).toContain(`classified ${total} lines (0 blank skipped)`);
  }, 420_000);
});
