// SPDX-License-Identifier: MIT
// The 'auto' options resolve from the weights: flash attention off only for F32 (parity),
// mmap off on the CPU for types its backend repacks, a 256-token compute graph on the CPU.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomCheckpoint } from '../../scripts/fixtures/make-random-checkpoint.js';
import { convertCheckpoint } from '../../src/convert/index.js';
import { LogClassifier, ValidationError } from '../../src/index.js';
import { tinyCheckpointDir, tinyModel } from '../fixtures/index.js';

const work = mkdtempSync(join(tmpdir(), 'logtriage-defaults-'));
const q4 = join(work, 'tiny-q4_0.gguf');
const q4Wide = join(work, 'micro-h32-q4_0.gguf');
const lines = ['2025-01-01 sshd[1]: Accepted password for root', '2025-01-01 sshd[1]: Failed password for root'];

beforeAll(async () => {
  await convertCheckpoint(tinyCheckpointDir(), q4, { type: 'q4_0' });
  const wide = join(work, 'micro-h32');
  await makeRandomCheckpoint(wide, { shape: 'micro-h32', dtype: 'f32', shards: 1, seed: 11 });
  await convertCheckpoint(wide, q4Wide, { type: 'q4_0' });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function infoOf(file: string, options = {}) {
  const clf = await LogClassifier.open(file, { threads: 1, gpu: 'cpu', ...options });
  try {
    return { info: clf.info, logits: (await clf.classifyMany(lines)).map((r) => r.logits) };
  } finally {
    await clf.dispose();
  }
}

describe('resolved defaults', () => {
  it('F32 weights: flash attention disabled, F32 KV cache, mapped weights, 256-token graphs', async () => {
    const { info } = await infoOf(tinyModel('f32'));
    expect(info).toMatchObject({ flashAttn: 'disabled', kvCacheType: 'f32', useMmap: true, ubatchTokens: 256 });
  });

  it('F16 and Q8_0 weights: flash attention left to llama.cpp (auto), F16 KV cache, mapped', async () => {
    for (const type of ['f16', 'q8_0'] as const) {
      const { info } = await infoOf(tinyModel(type));
      expect(info, type).toMatchObject({ flashAttn: 'auto', kvCacheType: 'f16', useMmap: process.arch !== 'arm64' || type !== 'q8_0' });
    }
  });

  it.runIf(process.arch === 'x64' || process.arch === 'arm64')('Q4_0 weights on the CPU are read, not mapped, with the same results', async () => {
    const auto = await infoOf(q4);
    expect(auto.info.useMmap).toBe(false);
    const mapped = await infoOf(q4, { useMmap: true });
    expect(mapped.info.useMmap).toBe(true);
    expect(auto.logits).toEqual(mapped.logits);
  });

  it('weights below 8 bits get a Q8_0 KV cache where heads are 32-wide and flash attention is not off', async () => {
    expect((await infoOf(q4)).info.kvCacheType).toBe('f16'); // 16-wide heads
    const wide = await infoOf(q4Wide);
    expect(wide.info).toMatchObject({ kvCacheType: 'q8_0', flashAttn: 'auto' });
    const f16Cache = await infoOf(q4Wide, { kvCacheType: 'f16' });
    // Same ranking of labels; the cache precision moves logits only slightly.
    wide.logits.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - f16Cache.logits[i]![j]!)).toBeLessThan(0.05)));
    expect((await infoOf(q4Wide, { flashAttn: false })).info.kvCacheType).toBe('f16');
  });

  it('explicit choices win, and bad ones are ValidationErrors', async () => {
    const { info } = await infoOf(tinyModel('f16'), { flashAttn: false, useMmap: false, ubatchTokens: 64 });
    expect(info).toMatchObject({ flashAttn: 'disabled', useMmap: false, ubatchTokens: 64 });
    await expect(LogClassifier.open(tinyModel('f16'), { flashAttn: 'yes' as never })).rejects.toBeInstanceOf(ValidationError);
    await expect(LogClassifier.open(tinyModel('f16'), { useMmap: 'auto!' as never })).rejects.toBeInstanceOf(ValidationError);
  });
});
