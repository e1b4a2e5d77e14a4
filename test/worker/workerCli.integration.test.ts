// SPDX-License-Identifier: MIT
// `logtriage worker` flag errors: usage errors (exit 2) before any model or broker is touched.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

describe('logtriage worker flags', () => {
  it('refuses two authentication methods at once with exit 2', async () => {
    const run = await runCli(['worker', '--token', 't', '--user', 'u', '--password', 'p', '--servers', 'nats://127.0.0.1:1', '--model', 'absent.gguf']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/ValidationError: .*at most one of creds, token, or user \+ password/);
  });

  it('refuses an output subject without a valid NATS subject with exit 2', async () => {
    const run = await runCli(['worker', '--out-subject', 'logs.*', '--servers', 'nats://127.0.0.1:1', '--model', 'absent.gguf']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/outSubject/);
  });

  it('refuses a review threshold outside 0..1 with exit 2 before the model loads', async () => {
    for (const flag of ['--review-min-score', '--review-min-margin']) {
      const run = await runCli(['worker', flag, '1.5', '--servers', 'nats://127.0.0.1:1', '--model', 'absent.gguf']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/expected a probability from 0 to 1, got '1\.5'/);
    }
  });

  it('refuses a thresholds file naming a label the model lacks, or missing, with exit 2 before the model loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logtriage-worker-cli-'));
    try {
      const file = join(dir, 'alerts.json');
      writeFileSync(file, JSON.stringify({ version: 1, calibration: 'none', thresholds: { NoSuchLabel: 0.5 } }));
      // The native addon path leads nowhere, so loading the model would fail, and port 1 refuses
      // connections: an exit 2 naming the file shows the check came before both.
      const noAddon = { ...process.env, LOGTRIAGE_NATIVE_BINDING: join(dir, 'absent.node') };
      const worker = (thresholds: string) =>
        runCli(['worker', '--thresholds', thresholds, '--servers', 'nats://127.0.0.1:1', '--model', tinyModel('f32'), '--threads', '1'], undefined, 120_000, noAddon);
      const wrongLabel = await worker(file);
      expect(wrongLabel.code).toBe(2);
      expect(wrongLabel.stderr).toMatch(/names label 'NoSuchLabel', which this model does not have/);
      const missing = await worker(join(dir, 'absent.json'));
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/Cannot read thresholds file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
