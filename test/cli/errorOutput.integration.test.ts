// SPDX-License-Identifier: MIT
// handleError is the one way out for errors, and it escapes them: a message that quotes hostile
// input (V8's snippet of a bad JSON line, a file name, a gold label) reaches stderr as visible
// escapes, in text and in --json form, never as terminal control sequences.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactsDir, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

// What a terminal acts on: C0 but LF, DEL, C1, bidi controls, LS/PS.
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;
const OSC = '\u001b]0;pwned\u0007';
const dir = join(artifactsDir, 'error-output');
mkdirSync(dir, { recursive: true });

describe('logtriage errors on stderr', () => {
  it('escapes a bad JSON line quoted by V8, and a gold label the model lacks, in text and --json', async () => {
    const badJson = join(dir, 'bad.jsonl');
    writeFileSync(badJson, `oops ${OSC}\u009b31m \u202eevil\n`);
    const badLabel = join(dir, 'label.jsonl');
    writeFileSync(badLabel, `${JSON.stringify({ text: 'disk full', label: `Err${OSC}\u202e` })}\n`);
    let runs = 0;
    for (const file of [badJson, badLabel]) {
      for (const json of [[], ['--json']]) {
        const { code, stderr } = await runCli(['eval', file, '--model', tinyModel('q8_0'), '--threads', '1', ...json]);
        expect(code, stderr).toBe(2);
        expect(stderr).not.toMatch(ACTIVE);
        if (json.length > 0) {
          const error = JSON.parse(stderr.trim());
          expect(error.code).toBe('ERR_VALIDATION');
          expect(error.error).toMatch(/(\u001b|\\u001b)\]0;p/); // the same message, as a JSON value
        } else {
          expect(stderr).toMatch(/\\(x1b|u001b)\]0;p/); // shown, whether quoted by V8 or by JSON.stringify
        }
        runs++;
      }
    }
    expect(runs).toBe(4);
  });

  it('escapes a file name in an error, and keeps the stack readable with --verbose', async () => {
    const { code, stderr } = await runCli(['info', join(dir, `model${OSC}.gguf`), '--verbose']);
    expect(code).toBe(1);
    expect(stderr).not.toMatch(ACTIVE);
    expect(stderr).toContain('model\\x1b]0;pwned\\x07.gguf');
    expect(stderr.split('\n').length).toBeGreaterThan(3); // the stack's lines stay lines
  });
});
