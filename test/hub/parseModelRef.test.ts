// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { checkRevision, parseModelRef } from '../../src/hub/parseModelRef.js';

describe('parseModelRef()', () => {
  it('reads owner/name with an optional @revision and :type', () => {
    expect(parseModelRef('Deeps03/qwen2-1.5b-log-classifier')).toEqual({ repoId: 'Deeps03/qwen2-1.5b-log-classifier' });
    expect(parseModelRef('acme/logs_v2.1@refs/pr/3:q8_0')).toEqual({ repoId: 'acme/logs_v2.1', revision: 'refs/pr/3', type: 'q8_0' });
    expect(parseModelRef('acme/logs:bf16')).toEqual({ repoId: 'acme/logs', type: 'bf16' });
  });

  it('returns undefined for what is not shaped like a repo id', () => {
    for (const text of ['model.gguf', './acme/logs', '/abs/path', 'a/b/c', 'acme/', '-x/y', 'acme/logs@', 'C:\\models\\x']) {
      expect(parseModelRef(text), text).toBeUndefined();
    }
  });

  it('refuses an unknown type and a revision that could leave the cache folder', () => {
    expect(() => parseModelRef('acme/logs:q3_k')).toThrow(/Unknown type 'q3_k'.*expected one of f32, f16/);
    expect(() => parseModelRef('acme/logs@../../etc')).toThrow(ValidationError);
    expect(() => checkRevision('a//b')).toThrow(ValidationError);
    expect(checkRevision('v1.0')).toBe('v1.0');
  });
});
