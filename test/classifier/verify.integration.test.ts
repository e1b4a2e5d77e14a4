// SPDX-License-Identifier: MIT
// LogClassifier.open(path, { verify: true }): the digest is checked before llama.cpp reads the
// file. A flipped weight byte or a file without a digest throws IntegrityError; only the intact
// model goes on to load (the one case here that needs the addon).
import { copyFile, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError, LogClassifier, ValidationError } from '../../src/index.js';
import { readGgufHeader, validateLogtriageModel } from '../../src/gguf/index.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { tinyModel } from '../fixtures/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-open-verify-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LogClassifier.open() with verify', () => {
  it('loads an intact model and classifies with it; info.digest says what the digest covers', async () => {
    const clf = await LogClassifier.open(tinyModel('f16'), { verify: true, threads: 2 });
    try {
      expect((await clf.classify('sshd[42]: Failed password for root from 203.0.113.9')).label.length).toBeGreaterThan(0);
      const header = await readGgufHeader(tinyModel('f16'));
      // Covered keys by the documented rule: all but logtriage.digest.* and the descriptive general.* keys.
      const covered = [...header.metadata.keys()].filter((k) => !k.startsWith('logtriage.digest.') && (!k.startsWith('general.') || k === 'general.architecture' || k === 'general.alignment'));
      expect(covered.length).toBeGreaterThan(20);
      expect(clf.info.digest).toEqual({ version: 1, tensors: header.tensors.length, metadataKeys: covered.length, id: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(clf.info.verification).toEqual({ status: 'verified', by: 'hash', model: clf.info.digest!.id.slice(0, 12) });
    } finally {
      await clf.dispose();
    }
  });

  it('throws IntegrityError naming the tensor when a weight byte is flipped', async () => {
    const path = join(dir, 'flipped.gguf');
    await copyFile(tinyModel('f16'), path);
    const header = await readGgufHeader(path);
    const tensor = header.tensors.find((t) => t.name === 'blk.0.ffn_down.weight')!;
    const fh = await open(path, 'r+');
    await fh.write(Buffer.of(0x5a), 0, 1, header.dataOffset + tensor.offset + 1001);
    await fh.close();
    const error = await LogClassifier.open(path, { verify: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error).toMatchObject({ code: 'ERR_INTEGRITY', reason: 'mismatch', message: expect.stringContaining("Tensor 'blk.0.ffn_down.weight' does not match its digest") });
  });

  it('throws IntegrityError (unverifiable) for an otherwise valid model without a digest', async () => {
    const path = join(dir, 'undigested.gguf');
    await copyGguf(tinyModel('f16'), path, { digest: false, editMetadata: (m) => [...m.keys()].filter((k) => k.startsWith('logtriage.digest.')).forEach((k) => m.delete(k)) });
    expect(validateLogtriageModel(await readGgufHeader(path)).labels.length).toBeGreaterThan(0);
    await expect(LogClassifier.open(path, { verify: true })).rejects.toMatchObject({ name: 'IntegrityError', reason: 'unverifiable', message: expect.stringContaining('has no content digest') });
    const clf = await LogClassifier.open(path, { threads: 1, verify: false });
    try {
      expect(clf.info.digest).toBeNull();
    } finally {
      await clf.dispose();
    }
  });

  it('rejects a verify option that is not a boolean, \'once\' or \'require\'', async () => {
    await expect(LogClassifier.open(tinyModel('f16'), { verify: 'yes' } as never)).rejects.toThrow(ValidationError);
    await expect(LogClassifier.open(tinyModel('f16'), { verify: 'yes' } as never)).rejects.toThrow('Expected a boolean, \'once\' or \'require\' for LogClassifier.open() options.verify but received "yes" of type string');
    await expect(LogClassifier.open(tinyModel('f16'), { verfy: true } as never)).rejects.toThrow("did you mean 'verify'?");
  });
});
