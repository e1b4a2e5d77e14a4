// SPDX-License-Identifier: MIT
// `logtriage worker` flag errors: usage errors (exit 2) before any model or broker is touched.
import { describe, expect, it } from 'vitest';
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
});
