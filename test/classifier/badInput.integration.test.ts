// SPDX-License-Identifier: MIT
// Bad input of every kind gets a typed error (or a flagged result) and the process survives.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackendError,
  EmptyInputError,
  InputTooLongError,
  LogClassifier,
  ModelFormatError,
  ModelLoadError,
  ValidationError,
} from '../../src/index.js';
import { artifactsDir, tinyCheckpointDir, tinyModel } from '../fixtures/index.js';
import { openInChild } from '../helpers/openInChild.js';

describe('LogClassifier#classify() with bad input', () => {
  let clf: LogClassifier;
  beforeAll(async () => {
    clf = await LogClassifier.open(tinyModel('f32'), { threads: 2, maxTokens: 1024 });
  });
  afterAll(async () => {
    await clf?.dispose();
  });

  it('classifies a 400,000-mark combining run (stream-safe NFC, not quadratic) and keeps short runs exact', async () => {
    const r = await clf.classify(`a${'\u0301\u0316'.repeat(200_000)}`);
    expect(r.truncated).toBe(true);
    // Runs of 30 marks or fewer are plain NFC, as HF does.
    expect(await clf.tokenize('e\u0301\u0316 cafe\u0301')).toEqual(await clf.tokenize('e\u0301\u0316 caf\u00e9'));
  });

  it('works with maxTokens below batchSize (lines per decode are capped by tokens per decode)', async () => {
    const small = await LogClassifier.open(tinyModel('f32'), { threads: 2, maxTokens: 7 });
    try {
      const results = await small.classifyMany(['kernel: eth0 link up after reset on port 3', 'sshd[42]: Failed password for root from 203.0.113.9']);
      expect(results.map((r) => r.tokens)).toEqual([7, 7]);
      expect(small.info.batchSize).toBeLessThanOrEqual(small.info.batchTokens);
    } finally {
      await small.dispose();
    }
  });

  it('rejects the empty string and whitespace-only lines with EmptyInputError', async () => {
    await expect(clf.classify('')).rejects.toBeInstanceOf(EmptyInputError);
    await expect(clf.classify('   \t  ')).rejects.toBeInstanceOf(EmptyInputError);
    await expect(clf.classify('\r\n')).rejects.toBeInstanceOf(EmptyInputError);
    await expect(clf.classifyMany(['ok line', ''])).rejects.toThrow(/texts\[1\] is empty/);
  });

  it('classifies lone surrogates (replaced by U+FFFD) and flags them', async () => {
    const r = await clf.classify('ERROR \ud800 broken \udfff pair');
    expect(r.flags).toContain('invalid-unicode');
    expect(clf.labels).toContain(r.label);
    const same = await clf.classify('ERROR \ufffd broken \ufffd pair');
    expect(r.logits).toEqual(same.logits);
  });

  it('classifies NUL and other control characters', async () => {
    const r = await clf.classify('a\u0000b\u0001c\u001b[31mred\u0007');
    expect(r.tokens).toBeGreaterThan(3);
    expect(r.logits.every(Number.isFinite)).toBe(true);
  });

  it('truncates a 100,000-character line (right by default, left on request) or throws with truncation: error', async () => {
    const long = 'GET /api/v1/items?page=1 HTTP/1.1 200 '.repeat(2700).slice(0, 100_000);
    expect(long).toHaveLength(100_000);
    const right = await clf.classify(long);
    expect(right.truncated).toBe(true);
    expect(right.tokens).toBe(1024);
    const head = await clf.classify(long.slice(0, 20_000));
    expect(head.truncated).toBe(true);
    expect(head.logits).toEqual(right.logits);

    const left = await LogClassifier.open(tinyModel('f32'), { threads: 2, maxTokens: 1024, truncation: 'left' });
    const strict = await LogClassifier.open(tinyModel('f32'), { threads: 2, maxTokens: 1024, truncation: 'error' });
    try {
      const l = await left.classify(long);
      expect(l.truncated).toBe(true);
      expect(l.tokens).toBe(1024);
      const err = await strict.classify(long).catch((e) => e);
      expect(err).toBeInstanceOf(InputTooLongError);
      expect(err.maxTokens).toBe(1024);
    } finally {
      await left.dispose();
      await strict.dispose();
    }
  });

  it('rejects non-string input with ValidationError', async () => {
    await expect(clf.classify(42 as unknown as string)).rejects.toBeInstanceOf(ValidationError);
    await expect(clf.classifyMany('abc' as unknown as string[])).rejects.toBeInstanceOf(ValidationError);
    await expect(clf.classify('x', { signal: 'nope' } as never)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('LogClassifier.open() with invalid options', () => {
  const cases: Array<[string, object, RegExp]> = [
    ['threads 0', { threads: 0 }, /threads but received 0/],
    ['unknown gpu', { gpu: 'tpu' }, /one of "auto", "cpu", "cuda", "metal", "vulkan" for .*gpu but received "tpu"/],
    ['batchSize string', { batchSize: 'big' }, /batchSize but received "big" of type string/],
    ['misspelled key', { thread: 2 }, /Unknown option 'thread' \(did you mean 'threads'\?\)/],
    ['truncation', { truncation: 'middle' }, /truncation/],
    ['specialTokens', { specialTokens: true }, /specialTokens/],
    ['maxTokens above the training context', { maxTokens: 1_000_000 }, /training context/],
  ];
  for (const [name, options, message] of cases) {
    it(`${name} → ValidationError`, async () => {
      const err = await LogClassifier.open(tinyModel('f32'), options as never).catch((e) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message).toMatch(message);
    });
  }

  it('an explicit GPU backend that is absent is a BackendError listing the devices found', async () => {
    const err = await LogClassifier.open(tinyModel('f32'), { gpu: 'metal' }).catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err.message).toMatch(/no metal device was found; devices found: .*CPU/);
  });
});

describe('LogClassifier.open() with bad model files (each in a child process)', () => {
  const dir = join(artifactsDir, 'bad-models');
  const valid = () => readFileSync(tinyModel('f32'));

  function write(name: string, bytes: Uint8Array): string {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  }

  /** Replaces the first occurrence of `from` with `to` (same length) in the file's bytes. */
  function patch(bytes: Buffer, from: string, to: string): Buffer {
    expect(to.length).toBe(from.length);
    const at = bytes.indexOf(Buffer.from(from));
    expect(at).toBeGreaterThan(0);
    const out = Buffer.from(bytes);
    out.write(to, at);
    return out;
  }

  const expectTypedFailure = async (path: string, errorName: string) => {
    const r = await openInChild(path);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.outcome, r.message).toBe(errorName);
    return r;
  };

  it('a missing file → ModelLoadError', async () => {
    await expect(LogClassifier.open(join(dir, 'nope.gguf'))).rejects.toBeInstanceOf(ModelLoadError);
  });

  it('a non-GGUF file → ModelFormatError', async () => {
    const path = write('tokenizer.gguf', readFileSync(join(tinyCheckpointDir(), 'tokenizer.json')));
    await expectTypedFailure(path, ModelFormatError.name);
  });

  it('truncated files → ModelFormatError', async () => {
    const bytes = valid();
    for (const fraction of [0.0001, 0.01, 0.3, 0.999]) {
      const path = write(`truncated-${fraction}.gguf`, bytes.subarray(0, Math.floor(bytes.length * fraction)));
      await expectTypedFailure(path, ModelFormatError.name);
    }
  });

  it('a corrupted header (bad magic, absurd tensor count) → ModelFormatError', async () => {
    const bytes = Buffer.from(valid());
    const badMagic = Buffer.from(bytes);
    badMagic.write('GGUX', 0);
    await expectTypedFailure(write('bad-magic.gguf', badMagic), ModelFormatError.name);
    const absurd = Buffer.from(bytes);
    absurd.writeBigUInt64LE(0xffffffffffn, 8);
    await expectTypedFailure(write('absurd-count.gguf', absurd), ModelFormatError.name);
  });

  it('a GGUF without head metadata → ModelFormatError naming the key', async () => {
    const r = await expectTypedFailure(write('no-head.gguf', patch(valid(), 'logtriage.head.weight', 'logtriage.head.weigxx')), ModelFormatError.name);
    expect(r.message).toMatch(/logtriage\.head\.weight/);
  });

  it('a wrong architecture → ModelFormatError naming it', async () => {
    const bytes = valid();
    const key = Buffer.from('general.architecture');
    const at = bytes.indexOf(key) + key.length + 4 + 8; // value type (u32) + string length (u64)
    expect(bytes.subarray(at, at + 5).toString()).toBe('qwen2');
    const out = Buffer.from(bytes);
    out.write('llama', at);
    const r = await expectTypedFailure(write('llama-arch.gguf', out), ModelFormatError.name);
    expect(r.message).toMatch(/llama/);
  });

  it('a valid model opens and classifies in a child process', async () => {
    const r = await openInChild(tinyModel('f32'));
    expect(r.outcome, r.message + r.stderr).toBe('ok');
  });
});
