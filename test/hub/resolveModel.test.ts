// SPDX-License-Identifier: MIT
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelNotCachedError } from '../../src/errors.js';
import { DEFAULT_GGUF_TYPE, resolveModel } from '../../src/hub/index.js';

const root = mkdtempSync(join(tmpdir(), 'logtriage-resolve-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MAIN = '1'.repeat(40);
const OLD = '2'.repeat(40);

/** A cache where `repoId`'s main points at MAIN, with GGUFs of `types` for MAIN. */
function cacheWith(repoId: string, types: string[]): Record<string, string> {
  const cacheDir = mkdtempSync(join(root, 'cache-'));
  const repoDir = join(cacheDir, `models--${repoId.replace('/', '--')}`);
  mkdirSync(join(repoDir, 'refs'), { recursive: true });
  writeFileSync(join(repoDir, 'refs', 'main'), `${MAIN}\n`);
  for (const [commit, list] of [[MAIN, types], [OLD, ['q4_0']]] as const) {
    mkdirSync(join(repoDir, 'gguf', commit), { recursive: true });
    for (const t of list) writeFileSync(join(repoDir, 'gguf', commit, `${t}.gguf`), '');
  }
  return { LOGTRIAGE_CACHE_DIR: cacheDir };
}

const ggufOf = (env: Record<string, string>, repoId: string, commit: string, type: string) =>
  join(env.LOGTRIAGE_CACHE_DIR!, `models--${repoId.replace('/', '--')}`, 'gguf', commit, `${type}.gguf`);

describe('resolveModel()', () => {
  it('returns GGUF paths as absolute paths, whether or not they exist', () => {
    expect(resolveModel('models/logs-f16.gguf', {})).toBe(resolve('models/logs-f16.gguf'));
    const file = join(root, 'acme', 'logs');
    mkdirSync(join(root, 'acme'), { recursive: true });
    writeFileSync(file, '');
    // An existing file shaped like a repo id is a file.
    expect(resolveModel(file, {})).toBe(file);
  });

  it('finds a pulled repo id in the cache: the default type, the only type, or the one asked for', () => {
    const env = cacheWith('acme/logs', ['f16', 'q8_0']);
    expect(resolveModel('acme/logs', env)).toBe(ggufOf(env, 'acme/logs', MAIN, DEFAULT_GGUF_TYPE));
    expect(resolveModel('acme/logs:f16', env)).toBe(ggufOf(env, 'acme/logs', MAIN, 'f16'));
    expect(resolveModel('acme/logs:q8_0', env)).toBe(ggufOf(env, 'acme/logs', MAIN, 'q8_0'));
    expect(resolveModel(`acme/logs@${OLD}:q4_0`, env)).toBe(ggufOf(env, 'acme/logs', OLD, 'q4_0'));
    const onlyQ4 = cacheWith('acme/logs', ['q4_0']);
    expect(resolveModel('acme/logs', onlyQ4)).toBe(ggufOf(onlyQ4, 'acme/logs', MAIN, 'q4_0'));
  });

  it('uses the pulled default model when no model is given', () => {
    const env = cacheWith('Deeps03/qwen2-1.5b-log-classifier', [DEFAULT_GGUF_TYPE]);
    expect(resolveModel(undefined, env)).toBe(ggufOf(env, 'Deeps03/qwen2-1.5b-log-classifier', MAIN, DEFAULT_GGUF_TYPE));
  });

  it('says exactly how to pull what is missing', () => {
    const empty = { LOGTRIAGE_CACHE_DIR: mkdtempSync(join(root, 'empty-')) };
    expect(() => resolveModel(undefined, empty)).toThrow(ModelNotCachedError);
    expect(() => resolveModel(undefined, empty)).toThrow(
      /^No model was given and the default model Deeps03\/qwen2-1\.5b-log-classifier is not in the model cache as q8_0 at .*\. Download and convert it with: logtriage pull Deeps03\/qwen2-1\.5b-log-classifier$/,
    );
    expect(() => resolveModel('acme/logs@dev:q4_0', { ...empty, HF_HUB_OFFLINE: '1' })).toThrow(
      /Download and convert it with: logtriage pull acme\/logs --revision dev --type q4_0 \(HF_HUB_OFFLINE is set: pulling needs network access\)$/,
    );
    const two = cacheWith('acme/logs', ['f16', 'q4_0']);
    expect(() => resolveModel('acme/logs', two)).toThrow(/not in the model cache as q8_0 \(cached as acme\/logs:f16, acme\/logs:q4_0\)/);
  });
});
