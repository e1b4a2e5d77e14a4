// SPDX-License-Identifier: MIT
// `logtriage verify`: exit 0 with the verdict on stdout, 1 naming the tensor that differs, 3 for a
// GGUF without a digest; --json on stdout in every case; the progress bar only on a terminal.
import { copyFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCommand } from '../../src/cli/commands/verify.js';
import { readGgufHeader } from '../../src/gguf/readGguf.js';
import { tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';
import { serializeGguf } from '../reliability/helpers/ggufBytes.js';

let dir: string;
let corrupted: string;
let foreign: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-cli-verify-'));
  corrupted = join(dir, 'corrupted.gguf');
  await copyFile(tinyModel('f16'), corrupted);
  const header = await readGgufHeader(corrupted);
  const last = header.tensors.at(-1)!;
  const fh = await open(corrupted, 'r+');
  await fh.write(Buffer.of(0x7f, 0x7f), 0, 2, header.dataOffset + last.offset);
  await fh.close();
  foreign = join(dir, 'foreign.gguf');
  const { bytes } = serializeGguf({ metadata: new Map([['general.architecture', { type: 'string', value: 'llama' }]]), tensors: [{ name: 'w', ne: [8], typeId: 0, data: Buffer.alloc(32) }] });
  await writeFile(foreign, bytes);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('logtriage verify', () => {
  it('exits 0 / 1 / 3 for an intact, a corrupted and an undigested file', async () => {
    const [intact, bad, undigested] = await Promise.all([
      runCli(['verify', tinyModel('f16')]),
      runCli(['verify', corrupted]),
      runCli(['verify', foreign, '--json']),
    ]);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/^verified .*qwen2-tiny-f16\.gguf: 26 tensors and 24 metadata keys match the digest \(25\.6 MB in [\d.]+ s, \d+ MB\/s\)\n$/);
    expect(intact.stderr).toBe('');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe("logtriage: IntegrityError: Tensor 'output_norm.weight' does not match its digest (its data, type or shape changed)\n");
    expect(undigested.code).toBe(3);
    expect(JSON.parse(undigested.stdout)).toMatchObject({ status: 'unverifiable', path: foreign, message: expect.stringContaining('has no content digest') });
    expect(JSON.parse(undigested.stderr)).toMatchObject({ code: 'ERR_INTEGRITY' });
  });

  it('writes the result as JSON on stdout with --json, and throws typed errors for a mismatch and a missing file', async () => {
    const chunks: string[] = [];
    const stdout = new Writable({ write: (c, _e, done) => (chunks.push(String(c)), done()) });
    const io = { stdout, stderr: stdout };
    await expect(verifyCommand({ model: corrupted, json: true, quiet: false }, io)).rejects.toMatchObject({ name: 'IntegrityError', reason: 'mismatch' });
    expect(JSON.parse(chunks.join(''))).toMatchObject({ status: 'mismatch', kind: 'tensor', name: 'output_norm.weight', path: corrupted, seconds: expect.any(Number) });
    await expect(verifyCommand({ model: join(dir, 'nope.gguf'), json: false, quiet: true }, io)).rejects.toThrow(/^Model file not found: .*nope\.gguf$/);
  });

  it('draws a byte progress bar on a terminal stderr only', async () => {
    const sink = () => {
      const chunks: string[] = [];
      const stream = Object.assign(new Writable({ write: (c, _e, done) => (chunks.push(String(c)), done()) }), { isTTY: true, columns: 120 });
      return { stream, text: () => chunks.join('') };
    };
    const [out, err] = [sink(), sink()];
    await verifyCommand({ model: tinyModel('f16'), json: false, quiet: false }, { stdout: out.stream, stderr: err.stream });
    expect(out.text()).toMatch(/^verified /);
    expect(err.text()).toMatch(/verifying .*\d+% \| \d+\/26 MB \| \d+ MB\/s/);
    const [quietOut, quietErr] = [sink(), sink()];
    await verifyCommand({ model: tinyModel('f16'), json: false, quiet: true }, { stdout: quietOut.stream, stderr: quietErr.stream });
    expect(quietErr.text()).toBe('');
  });
});
