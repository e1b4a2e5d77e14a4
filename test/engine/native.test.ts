// SPDX-License-Identifier: MIT
// The native error mapping and the wrapped binding, against a fake addon: every code of
// native/common.h has a typed error, and every call of the wrapped binding maps its failures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { NATIVE_ERROR_CODES } from '../../src/errors.js';
import { fromNativeError, wrapBinding, type NativeBinding, type NativeContext, type NativeModel } from '../../src/engine/native.js';
import { repoRoot } from '../fixtures/index.js';

const nativeError = (code: string, message = 'it failed') => Object.assign(new Error(message), { code });

describe('fromNativeError()', () => {
  it('knows exactly the codes native/common.h declares', () => {
    const header = readFileSync(join(repoRoot, 'native', 'common.h'), 'utf8');
    const declared = [...header.matchAll(/constexpr const char \* k\w+\s*=\s*"([A-Z_]+)"/g)].map((m) => m[1]);
    expect(declared.length).toBeGreaterThan(10);
    expect([...NATIVE_ERROR_CODES].sort()).toEqual(declared.sort());
  });

  const cases: Array<[string, new (...args: never[]) => errors.LogTriageError]> = [
    ['INVALID_ARGUMENT', errors.ValidationError],
    ['MODEL_LOAD', errors.ModelLoadError],
    ['CONTEXT_CREATE', errors.BackendError],
    ['DISPOSED', errors.DisposedError],
    ['KV_SLOT', errors.BackendError],
    ['ABORTED', errors.AbortError],
    ['INVALID_BATCH', errors.BackendError],
    ['DECODE_FATAL', errors.BackendError],
    ['NO_EMBEDDING', errors.BackendError],
    ['TOKENIZE', errors.BackendError],
    ['QUANTIZE', errors.ConvertError],
    ['OUT_OF_MEMORY', errors.BackendError],
  ];
  it('maps all the codes', () => expect(cases.map(([c]) => c).sort()).toEqual([...NATIVE_ERROR_CODES].sort()));
  it.each(cases)('%s becomes %O, with the code as nativeCode', (code, type) => {
    const raw = nativeError(code, 'llama said no');
    const typed = fromNativeError(raw);
    expect(typed).toBeInstanceOf(type);
    expect(typed.nativeCode).toBe(code);
    expect(typed.message).toBe(type === errors.BackendError ? `llama said no (${code})` : 'llama said no');
  });

  it('an uncoded or unknown failure is a BackendError without nativeCode; a typed error passes through', () => {
    const plain = fromNativeError(new TypeError('A number was expected'));
    expect(plain).toBeInstanceOf(errors.BackendError);
    expect(plain.nativeCode).toBeUndefined();
    expect(plain.cause).toBeInstanceOf(TypeError);
    expect(fromNativeError(nativeError('SOMETHING_NEW')).message).toBe('it failed (SOMETHING_NEW)');
    expect(fromNativeError('a string').message).toBe('a string');
    const own = new errors.OverloadedError('full');
    expect(fromNativeError(own)).toBe(own);
  });

  it("puts the caller's stack under the typed error's own first line", () => {
    const typed = fromNativeError(nativeError('KV_SLOT'), 'Error\n    at caller (file.ts:1:1)');
    expect(typed.stack).toBe('BackendError: it failed (KV_SLOT)\n    at caller (file.ts:1:1)');
  });
});

/** A fake addon whose every call fails with `code`, synchronously or by rejecting as the real one does. */
function failingAddon(code: string): { addon: NativeBinding; createdWith: unknown[] } {
  const createdWith: unknown[] = [];
  const reject = () => Promise.reject(nativeError(code));
  const fail = () => {
    throw nativeError(code);
  };
  const rawModel: NativeModel = { tokenize: reject, info: fail, dispose: reject };
  const rawContext: NativeContext = { classify: reject, embed: reject, info: fail, dispose: reject };
  const addon: NativeBinding = {
    Model: { load: async () => rawModel },
    Context: {
      create: async (model) => {
        createdWith.push(model);
        return rawContext;
      },
    },
    loadBackends: fail,
    loadBackend: fail,
    devices: fail,
    quantize: reject,
    systemInfo: fail,
    liveModels: fail,
    llamaRelease: 'b0000',
  };
  return { addon, createdWith };
}

describe('wrapBinding()', () => {
  it('maps the failures of every call, Models and Contexts included, and rejects rather than throws', async () => {
    const { addon, createdWith } = failingAddon('DISPOSED');
    const binding = wrapBinding(addon);
    const model = await binding.Model.load('m.gguf', { gpuLayers: 0, useMmap: true });
    const context = await binding.Context.create(model, {} as never);
    expect(createdWith).toEqual([await addon.Model.load('m.gguf', { gpuLayers: 0, useMmap: true })]);
    expect(createdWith[0]).not.toBe(model);
    const async = [model.tokenize(['x'], false), model.dispose(), context.classify(new Int32Array(1), new Uint32Array(2)), context.dispose(), binding.quantize('a', 'b', 'q8_0', 1)];
    const settled = await Promise.allSettled(async);
    expect(settled).toHaveLength(5);
    for (const s of settled) expect((s as PromiseRejectedResult).reason).toBeInstanceOf(errors.DisposedError);
    const sync = [() => model.info(), () => context.info(), () => binding.devices(), () => binding.systemInfo(), () => binding.liveModels(), () => binding.loadBackends('.'), () => binding.loadBackend('x')];
    for (const call of sync) expect(call).toThrow(errors.DisposedError);
    expect(binding.llamaRelease).toBe('b0000');
  });

  it('a quantize failure is a ConvertError naming the native code (not a plain Error)', async () => {
    const err = await wrapBinding(failingAddon('QUANTIZE').addon).quantize('in.gguf', 'out.gguf', 'q4_0', 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(errors.ConvertError);
    expect(err).toMatchObject({ code: 'ERR_CONVERT', nativeCode: 'QUANTIZE' });
  });
});
