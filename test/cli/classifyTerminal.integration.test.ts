// SPDX-License-Identifier: MIT
// `logtriage classify` on a terminal, through util-linux `script` (a pseudo-terminal): a coloured
// table by default, colour off with NO_COLOR, and with stdout redirected a progress line and a
// per-label summary on the terminal's stderr (none with --quiet).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactsDir, loghubDir, splitLogLines, tinyModel } from '../fixtures/index.js';
import { hasScript, runOnTerminal, withoutNodeWarnings } from './spawnCli.js';

const engine = ['--model', tinyModel('q8_0'), '--threads', '1'];
const SGR = /\u001b\[[0-9;]*m/u;
const workDir = join(artifactsDir, 'classify-terminal');

function sample(): string {
  mkdirSync(workDir, { recursive: true });
  const path = join(workDir, 'linux-40.log');
  const lines = splitLogLines(readFileSync(join(loghubDir(), 'Linux_2k.log'), 'utf8')).slice(0, 40);
  writeFileSync(path, `${lines.join('\n')}\nhostile \u001b]0;title\u0007 \u001b[2J end\n`);
  return path;
}

// A machine without util-linux `script` skips this file, loudly; under CI=true it is required (as
// Chromium is for eval --report): a silent skip there would be a gate that checks nothing.
const scriptMissing = !hasScript && process.env.CI !== 'true';
if (scriptMissing) console.warn("SKIPPED classify-on-a-terminal tests: no util-linux `script` (apt-get install -y util-linux; required under CI=true)");

describe.skipIf(scriptMissing)('logtriage classify on a terminal', () => {
  it('needs util-linux `script` (a pseudo-terminal)', () => {
    expect(hasScript, 'util-linux `script` is required under CI=true: apt-get install -y util-linux').toBe(true);
  });

  it('prints a coloured table by default, with hostile text escaped; NO_COLOR turns colour off', async () => {
    const file = sample();
    const [coloured, plain] = await Promise.all([
      runOnTerminal(['classify', file, ...engine], { env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: '' } }),
      runOnTerminal(['classify', file, ...engine], { env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: '1' } }),
    ]);
    expect(coloured.code, coloured.screen).toBe(0);
    expect(plain.code, plain.screen).toBe(0);
    for (const { screen } of [coloured, plain]) {
      expect(screen).toMatch(/LINE\s+LABEL\s+SCORE\s+TEXT/);
      expect(screen).toContain('hostile \\x1b]0;title\\x07 \\x1b[2J end');
      expect(screen).not.toContain('\u001b]0;');
      expect(screen).not.toContain('\u001b[2J');
      expect(screen).toMatch(/classified 41 lines in [\d.]+ s/);
    }
    expect(coloured.screen).toMatch(SGR);
    expect(plain.screen).not.toMatch(SGR);
  });

  it('draws progress and a per-label summary on stderr when stdout is redirected, and nothing with --quiet', async () => {
    const file = sample();
    const out = join(workDir, 'out.jsonl');
    const quietOut = join(workDir, 'quiet.jsonl');
    const [loud, quiet] = await Promise.all([
      runOnTerminal(['classify', file, ...engine], { shellRedirect: `> '${out}'`, env: { ...process.env, TERM: 'xterm-256color', NO_COLOR: '' } }),
      runOnTerminal(['classify', file, ...engine, '--quiet'], { shellRedirect: `> '${quietOut}'` }),
    ]);
    expect(loud.code, loud.screen).toBe(0);
    expect(loud.screen).toMatch(/classifying .*\| \d+ lines \| \d+ lines\/s/);
    expect(loud.screen).toMatch(/classified 41 lines in [\d.]+ s \(\d+ lines\/s\), 0 blank skipped/);
    const uncoloured = loud.screen.replace(new RegExp(SGR.source, 'gu'), '');
    for (const label of ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error']) expect(uncoloured).toMatch(new RegExp(`^  ${label}\\s+\\d+\\s+[\\d.]+%`, 'm'));
    expect(loud.screen).toMatch(SGR);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(41);
    expect(quiet.code, quiet.screen).toBe(0);
    expect(withoutNodeWarnings(quiet.screen.replaceAll('\r\n', '\n')).trim()).toBe('');
    expect(readFileSync(quietOut, 'utf8').trim().split('\n')).toHaveLength(41);
  });
});
