// SPDX-License-Identifier: MIT
// `logtriage classify --follow` through a real process: the file's lines, then appended ones,
// then the lines of a new file after a rename + recreate rotation; Ctrl-C (SIGINT) ends it with
// exit 0 after writing what was read. Waits are bounded; the child is killed if the test fails.
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { artifactsDir, tinyModel } from '../fixtures/index.js';
import { startCli, waitFor } from './spawnCli.js';

const parseJsonl = (s: string) => s.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));

describe('logtriage classify --follow', () => {
  it('classifies appended lines and follows a rotation until SIGINT', async () => {
    const dir = join(artifactsDir, 'follow-cli');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const log = join(dir, 'app.log');
    writeFileSync(log, 'sshd[1]: Accepted publickey for alice\nkernel: eth0 link up\n');

    const cli = startCli(['classify', log, '--follow', '--model', tinyModel('q8_0'), '--threads', '1', '--text']);
    const records = () => parseJsonl(cli.stdout());
    try {
      await waitFor(cli, 'the existing lines', () => records().length === 2);
      appendFileSync(log, 'sshd[2]: Failed password for root from 192.0.2.7\nsudo: alice : TTY=pts/0 ; COMMAND=/bin/sh\n');
      await waitFor(cli, 'the appended lines', () => records().length === 4);

      renameSync(log, `${log}.1`);
      writeFileSync(log, 'rotated: first line of the new file\n');
      await waitFor(cli, 'the new file after rotation', () => records().length === 5);
      expect(cli.stderr()).toMatch(/app\.log was rotated/);

      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
    } finally {
      cli.child.kill('SIGKILL');
    }
    expect(records().map((r) => `${r.line}:${r.text}`)).toEqual([
      '1:sshd[1]: Accepted publickey for alice',
      '2:kernel: eth0 link up',
      '3:sshd[2]: Failed password for root from 192.0.2.7',
      '4:sudo: alice : TTY=pts/0 ; COMMAND=/bin/sh',
      '1:rotated: first line of the new file',
    ]);
    expect(records().every((r) => r.file === log)).toBe(true);
    expect(cli.stderr()).toMatch(/classified 5 lines \(0 blank skipped\)/);
  }, 180_000);
});
