// SPDX-License-Identifier: MIT
// verifyModel() refuses bad options before it opens the file, with a ValidationError naming the option.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { verifyModel } from '../../src/gguf/verifyModel.js';

describe('verifyModel() options', () => {
  it.each<[unknown, RegExp]>([
    [{ chunkBytes: 100 }, /verifyModel\(\) options\.chunkBytes/],
    [{ chunkBytes: 4096.5 }, /verifyModel\(\) options\.chunkBytes/],
    [{ onProgress: 5 }, /verifyModel\(\) options\.onProgress/],
    [{ chunkbytes: 4096 }, /Unknown option 'chunkbytes' \(did you mean 'chunkBytes'\?\)/],
  ])('refuses %j', async (options, message) => {
    // The file does not exist: the options are checked first, so the error is about them.
    const err = await verifyModel('/nonexistent/model.gguf', options as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(message);
  });
});
