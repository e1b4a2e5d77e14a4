// SPDX-License-Identifier: MIT
// The option schemas' defaults and parseOptions()' messages: the field, what it accepts, what it got.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import type { z } from 'zod';
import { classifyOptionsSchema, openOptionsSchema, parseOptions, pipelineOptionsSchema } from '../src/options.js';

const where = 'LogClassifier.open() options';
const messageOf = (value: unknown, schema: z.ZodType = openOptionsSchema) => {
  try {
    parseOptions(schema, value, where);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as Error).message;
  }
  throw new Error(`${JSON.stringify(value)} was accepted`);
};

describe('openOptionsSchema', () => {
  it('fills every default, and leaves the model-dependent ones undefined', () => {
    const opts = parseOptions(openOptionsSchema, undefined, where);
    expect(opts).toEqual({
      threads: 'auto',
      gpu: 'auto',
      batchSize: 32,
      batchTokens: 512,
      truncation: 'right',
      specialTokens: 'plain',
      rejectWhitespace: true,
      prefixSharing: true,
      resultCache: 4096,
      flashAttn: 'auto',
      kvCacheType: 'auto',
      useMmap: 'auto',
      maxQueuedLines: 100_000,
      prefixCache: { cells: 512 },
      calibration: 'auto',
      verify: 'once',
      templateTier: false,
    });
    expect(opts.gpuLayers).toBeUndefined();
    expect(opts.maxTokens).toBeUndefined();
    expect(opts.ubatchTokens).toBeUndefined();
    expect(opts.review).toBeUndefined();
  });

  it('treats an undefined field as absent (so callers pass flags through without spreads)', () => {
    expect(parseOptions(openOptionsSchema, { threads: undefined, maxTokens: undefined }, where)).toEqual(parseOptions(openOptionsSchema, {}, where));
  });
});

describe('parseOptions()', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a wrong enum value', { gpu: 'rocm' }, `Expected one of "auto", "cpu", "cuda", "metal", "vulkan" for ${where}.gpu but received "rocm" of type string`],
    ['a number too small', { batchSize: 0 }, `Expected a number of at least 1 for ${where}.batchSize but received 0 of type number`],
    ['a number too big', { batchSize: 257 }, `Expected a number of at most 256 for ${where}.batchSize but received 257 of type number`],
    ['a fraction', { batchSize: 1.5 }, `Expected an integer for ${where}.batchSize but received 1.5 of type non-integer number`],
    ['a fraction of threads', { threads: 1.5 }, `Expected 'auto' or an integer from 1 to 1024 for ${where}.threads but received 1.5 of type non-integer number`],
    ['a wrong type', { prefixSharing: 'yes' }, `Expected a boolean for ${where}.prefixSharing but received "yes" of type string`],
    ['null', { maxTokens: null }, `Expected a number for ${where}.maxTokens but received null of type null`],
    ['a number for a path', { nativeBinding: 7 }, `Expected a string for ${where}.nativeBinding but received 7 of type number`],
  ];
  it.each(cases)('names the field for %s', (_, value, message) => {
    expect(messageOf(value)).toBe(message);
  });

  it('suggests the option meant by a misspelling, and lists the known ones', () => {
    const message = messageOf({ theads: 2, zzzzzzzz: 1 });
    expect(message).toMatch(/^Unknown option 'theads' \(did you mean 'threads'\?\), 'zzzzzzzz' for LogClassifier\.open\(\) options; known options: threads, gpu, /);
  });

  it('checks call options: an AbortSignal, a function, HF pipeline fields', () => {
    expect(messageOf({ signal: {} }, classifyOptionsSchema)).toBe(`Expected an AbortSignal for ${where}.signal but received {} of type object`);
    expect(messageOf({ onProgress: 1 }, classifyOptionsSchema)).toBe(`Expected a function for ${where}.onProgress but received 1 of type number`);
    expect(parseOptions(pipelineOptionsSchema, {}, where)).toEqual({ topK: 1, functionToApply: 'softmax' });
    expect(parseOptions(pipelineOptionsSchema, { topK: null }, where).topK).toBeNull();
    expect(messageOf({ topK: 0 }, pipelineOptionsSchema)).toBe(`Expected a number of at least 1 for ${where}.topK but received 0 of type number`);
  });
});
