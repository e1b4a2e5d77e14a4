// SPDX-License-Identifier: MIT
// open() with no verify option ('once'): damaged copies are refused; a second open of the unchanged
// file is spared the hash by its stamp (verifyCounters), and touching, replacing or rewriting the
// file makes the next open hash again. Stamps go to a temporary LOGTRIAGE_CACHE_DIR.
import { copyFile, mkdtemp, open, readFile, rename, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IntegrityError, LogClassifier, LogTriageError } from '../../src/index.js';
import { readGgufHeader } from '../../src/gguf/index.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { resetUnverifiableWarnings, verifyCounters } from '../../src/hub/checkModelOnOpen.js';
import { tinyModel } from '../fixtures/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-verify-default-'));
  vi.stubEnv('LOGTRIAGE_CACHE_DIR', join(dir, 'cache'));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

async function patch(path: string, offset: number, bytes: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  await fh.write(bytes, 0, bytes.length, offset);
  await fh.close();
}

/** Opens, classifies one line, disposes; returns info.verification and how many hashes the open cost. */
async function openOnce(path: string, options: { verify?: 'require' } = {}) {
  const hashed = verifyCounters.hashed;
  const clf = await LogClassifier.open(path, { threads: 1, ...options });
  try {
    expect((await clf.classify('kernel: Out of memory: Killed process 4242')).label.length).toBeGreaterThan(0);
    return { verification: clf.info.verification, hashes: verifyCounters.hashed - hashed };
  } finally {
    await clf.dispose();
  }
}

describe('LogClassifier.open() verifies by default', () => {
  it('refuses every kind of damaged copy with no option set', async () => {
    const source = tinyModel('q8_0');
    const header = await readGgufHeader(source);
    const size = header.fileSize;
    const tensor = header.tensors.find((t) => t.name === 'blk.1.attn_q.weight')!;
    const [labelStart] = header.spans!.metadata.get('qwen2.classifier.output_labels')!;
    const damages: Record<string, (path: string) => Promise<void>> = {
      'truncated by one byte': (p) => truncate(p, size - 1),
      'truncated to half': (p) => truncate(p, Math.floor(size / 2)),
      'a metadata value flipped': (p) => patch(p, labelStart! + 40, Buffer.of(0x7a)),
      'a tensor-info offset flipped': async (p) => patch(p, header.spans!.tensorInfos[3]![1] - 1, Buffer.of(0x40)),
      'noise in tensor data': (p) => patch(p, header.dataOffset + tensor.offset + 64, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8].map((b) => b * 31))),
    };
    for (const [name, damage] of Object.entries(damages)) {
      const path = join(dir, `${name.replaceAll(' ', '-')}.gguf`);
      await copyFile(source, path);
      await damage(path);
      const error = await LogClassifier.open(path, { threads: 1 }).then(
        async (clf) => {
          await clf.dispose();
          return new Error(`${name}: opened`);
        },
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(LogTriageError);
      if (name === 'noise in tensor data') expect(error).toMatchObject({ code: 'ERR_INTEGRITY', message: expect.stringContaining("'blk.1.attn_q.weight'") });
    }
    expect(Object.keys(damages)).toHaveLength(5);
  });

  it('hashes a file once; a touch, a replacement or a rewrite of the same bytes makes the next open hash again', async () => {
    const path = join(dir, 'model.gguf');
    await copyFile(tinyModel('q8_0'), path);
    const first = await openOnce(path);
    expect(first).toMatchObject({ hashes: 1, verification: { status: 'verified', by: 'hash' } });
    expect(first.verification.model).toMatch(/^[0-9a-f]{12}$/);
    const stampHits = verifyCounters.stampHits;
    expect(await openOnce(path)).toMatchObject({ hashes: 0, verification: { status: 'verified', by: 'stamp', model: first.verification.model } });
    expect(verifyCounters.stampHits).toBe(stampHits + 1);

    const later = new Date(Date.now() + 5000);
    await utimes(path, later, later); // touch: same bytes, new mtime and ctime
    expect(await openOnce(path)).toMatchObject({ hashes: 1, verification: { by: 'hash' } });

    const bytes = await readFile(path);
    await truncate(path, 0);
    await writeFile(path, bytes); // truncated and rewritten with the same bytes: same inode and size, new ctime
    expect(await openOnce(path)).toMatchObject({ hashes: 1, verification: { by: 'hash' } });
    expect(await openOnce(path)).toMatchObject({ hashes: 0, verification: { by: 'stamp' } });

    // Replaced by a damaged copy (rename over it: a new inode) after a stamp was written for the old one.
    const damaged = join(dir, 'damaged.gguf');
    await copyFile(path, damaged);
    const header = await readGgufHeader(damaged);
    await patch(damaged, header.dataOffset + header.tensors[5]!.offset + 8, Buffer.of(0x11, 0x22, 0x33));
    await rename(damaged, path);
    await expect(LogClassifier.open(path, { threads: 1 })).rejects.toBeInstanceOf(IntegrityError);
  });

  it('loads a file without a digest with one warning and names it unverifiable; verify: "require" refuses it', async () => {
    const path = join(dir, 'undigested.gguf');
    await copyGguf(tinyModel('q8_0'), path, { digest: false, editMetadata: (m) => [...m.keys()].filter((k) => k.startsWith('logtriage.digest.')).forEach((k) => m.delete(k)) });
    resetUnverifiableWarnings();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      expect(await openOnce(path)).toMatchObject({ hashes: 0, verification: { status: 'unverifiable', by: null, model: 'unverifiable' } });
      await openOnce(path);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => (w as Error & { code?: string }).code === 'LOGTRIAGE_UNVERIFIABLE')).toHaveLength(1);
    await expect(LogClassifier.open(path, { verify: 'require' })).rejects.toMatchObject({ name: 'IntegrityError', reason: 'unverifiable' });
  });
});
