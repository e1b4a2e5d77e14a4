// SPDX-License-Identifier: MIT
// Secrets kept off the command line (where /proc/<pid>/cmdline shows them to any local user):
// the worker's token and password from the environment or a file, serve's forward headers from
// a file; no message quotes a secret, and server URLs lose their userinfo in messages.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectHeader, readHeaderFile } from '../../src/cli/commands/serve.js';
import { buildProgram } from '../../src/cli/main.js';
import { readSecretFile, secretFrom } from '../../src/cli/readSecretFile.js';
import { ValidationError } from '../../src/errors.js';
import { redactUserinfo } from '../../src/redactUserinfo.js';
import { connectNats } from '../../src/worker/connectNats.js';
import { workerOptionsSchema } from '../../src/worker/workerOptions.js';
import { artifactsDir } from '../fixtures/index.js';

const dir = join(artifactsDir, 'secrets');
mkdirSync(dir, { recursive: true });
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('readSecretFile() / secretFrom()', () => {
  it('reads the secret without its trailing line end, and refuses an empty or missing file without quoting it', () => {
    expect(readSecretFile(file('token', 's3cr3t\n'), '--token-file')).toBe('s3cr3t');
    expect(readSecretFile(file('token-crlf', 's3cr3t\r\n'), '--token-file')).toBe('s3cr3t');
    expect(() => readSecretFile(file('empty', '\n'), '--token-file')).toThrow(/--token-file .*empty is empty/);
    expect(() => readSecretFile(join(dir, 'absent'), '--password-file')).toThrow(/Cannot read --password-file .*absent: ENOENT/);
    expect(secretFrom(undefined, file('pw', 'hunter2'), 'password')).toBe('hunter2');
    expect(secretFrom('from-env', undefined, 'password')).toBe('from-env');
    expect(() => secretFrom('a', file('pw2', 'b'), 'token')).toThrow(ValidationError);
  });
});

describe('logtriage worker secrets', () => {
  it('takes --token and --password from LOGTRIAGE_NATS_TOKEN / LOGTRIAGE_NATS_PASSWORD, and has --token-file / --password-file', () => {
    const worker = buildProgram().commands.find((c) => c.name() === 'worker')!;
    const options = new Map(worker.options.map((o) => [o.long, o]));
    expect(options.get('--token')?.envVar).toBe('LOGTRIAGE_NATS_TOKEN');
    expect(options.get('--password')?.envVar).toBe('LOGTRIAGE_NATS_PASSWORD');
    expect(options.has('--token-file')).toBe(true);
    expect(options.has('--password-file')).toBe(true);
  });

  it('names the servers without their userinfo when it cannot connect', async () => {
    const options = workerOptionsSchema.parse({ servers: ['nats://alice:hunter2@127.0.0.1:1', 'tls://tok3n@127.0.0.1:2'] });
    const error = await connectNats(options).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(/cannot connect to NATS at nats:\/\/\*\*\*@127\.0\.0\.1:1, tls:\/\/\*\*\*@127\.0\.0\.1:2/);
    expect(error?.message).not.toMatch(/hunter2|alice|tok3n/);
    expect(String((error as { cause?: unknown }).cause ?? '')).not.toMatch(/hunter2/);
  });
});

describe('logtriage serve forward headers', () => {
  it('reads --forward-header-file (Name: value per line, comments skipped) and never quotes a value in an error', () => {
    const path = file('headers', '# downstream\nAuthorization: Bearer abc:def\n\nX-Tenant: t1\n');
    expect(readHeaderFile(path)).toEqual({ Authorization: 'Bearer abc:def', 'X-Tenant': 't1' });
    expect(() => readHeaderFile(file('bad-headers', 'X-Ok: 1\nBearer-only-secret\n'))).toThrow(/bad-headers, line 2: expected 'Name: value'/);
    expect(() => readHeaderFile(file('bad-headers2', 'Bearersecret\n'))).not.toThrow(/Bearersecret/);
    expect(() => collectHeader('topsecretvalue', {})).not.toThrow(/topsecretvalue/);
  });
});

describe('redactUserinfo()', () => {
  it('drops user:password@ from every URL in a message and leaves the rest', () => {
    expect(redactUserinfo('at nats://u:p@h:4222, wss://tok@h2/x and nats://h3:4222 (a@b.c)')).toBe('at nats://***@h:4222, wss://***@h2/x and nats://h3:4222 (a@b.c)');
  });
});
