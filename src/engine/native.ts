// SPDX-License-Identifier: MIT
// The single typed view of the native addon (native/*.h document each call), the mapping of its
// coded errors to our typed error classes, and wrapBinding(), which applies that mapping to
// every call so that no call site can let a native failure out as a plain Error.
import { AbortError, BackendError, ConvertError, DisposedError, LogTriageError, ModelLoadError, NATIVE_ERROR_CODES, ValidationError, type NativeErrorCode } from '../errors.js';

export type QuantizeType = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_k_m';

/** KV cache types the addon accepts. */
export type NativeKvType = 'f32' | 'f16' | 'q8_0';

export interface NativeDevice {
  name: string;
  description: string;
  type: 'cpu' | 'gpu' | 'igpu' | 'accel';
  backend: string;
  memoryFree: number;
  memoryTotal: number;
}

export interface NativeModelInfo {
  nEmbd: number;
  nLayer: number;
  nCtxTrain: number;
  nParams: number;
  sizeBytes: number;
  description: string;
  nVocab: number;
  controlTokens: Array<[number, string]>;
  /** Bytes of mapped pages handed back after load (load option releaseSpans). */
  releasedBytes: number;
}

export interface NativeModel {
  tokenize(texts: string[], parseSpecial: boolean): Promise<{ tokens: Int32Array; offsets: Uint32Array }>;
  info(): NativeModelInfo;
  dispose(): Promise<void>;
}

export interface NativeContextOptions {
  nCtx: number;
  nBatch: number;
  nUbatch: number;
  nSeqMax: number;
  threads: number;
  flashAttn: boolean | 'auto';
  kvType: NativeKvType;
  nLabels: number;
  head: Float32Array;
  bias?: Float32Array;
  /** Decode tokens shared by several lines' prefixes once (default true). */
  sharePrefixes?: boolean;
  /** Most KV cells the cross-call prefix cache keeps (default 0: off); capped at nCtx - nBatch. */
  prefixCacheCells?: number;
}

export interface NativeContextInfo {
  nCtx: number;
  nBatch: number;
  nUbatch: number;
  nSeqMax: number;
  /** Threads the decodes run on now. */
  threads: number;
  nLabels: number;
  /** llama.cpp's name of the requested mode: 'enabled', 'disabled' or 'auto' (decided per device). */
  flashAttn: string;
  kvType: string;
  sharePrefixes: boolean;
  /** Tokens of every line classified so far. */
  tokensIn: number;
  /** Tokens actually decoded (fewer when lines share prefixes or repeat). */
  tokensDecoded: number;
  /** Tokens whose KV cells came from the cross-call prefix cache instead of a decode. */
  tokensReused: number;
  /** llama_decode calls made (tokensDecoded / decodes: the mean decode size). */
  decodes: number;
  /** The prefix cache's cell budget in effect (0: off). */
  prefixCacheCells: number;
  /** Cells the prefix cache holds now. */
  prefixCacheHeld: number;
}

export interface NativeContext {
  /** `threads`: run this call and later ones on that many threads (default: unchanged). */
  classify(tokens: Int32Array, offsets: Uint32Array, threads?: number): Promise<Float32Array>;
  /** classify() with each sequence's pooled hidden state (n_embd floats: last token, after the final RMSNorm) instead of its logits. */
  embed(tokens: Int32Array, offsets: Uint32Array, threads?: number): Promise<Float32Array>;
  info(): NativeContextInfo;
  dispose(): Promise<void>;
}

export interface NativeBinding {
  Model: { load(path: string, options: { gpuLayers: number; useMmap: boolean; device?: string; releaseSpans?: ReadonlyArray<readonly [number, number]> }): Promise<NativeModel> };
  Context: { create(model: NativeModel, options: NativeContextOptions): Promise<NativeContext> };
  loadBackends(dir: string): void;
  /** Loads one backend library into ggml's registry; a failure is returned, not thrown. */
  loadBackend(path: string): { loaded: boolean; name?: string; error?: string };
  devices(): NativeDevice[];
  quantize(input: string, output: string, type: QuantizeType, threads: number): Promise<void>;
  systemInfo(): string;
  /** Models loaded and not yet freed, in every environment of the process (a disposed Model counts while a Context or call holds its weights). */
  liveModels(): number;
  llamaRelease: string;
}

type ErrorFor = (message: string, cause: unknown, code: NativeErrorCode) => LogTriageError;
// A backend failure keeps the code in its message too: it is what a bug report needs.
const backend: ErrorFor = (message, cause, code) => new BackendError(`${message} (${code})`, { cause });

// Exhaustive: a code added to native/common.h and NATIVE_ERROR_CODES must be given a class here.
const ERROR_OF_CODE: Record<NativeErrorCode, ErrorFor> = {
  INVALID_ARGUMENT: (message, cause) => new ValidationError(message, { cause }),
  MODEL_LOAD: (message, cause) => new ModelLoadError(message, { cause }),
  CONTEXT_CREATE: backend,
  DISPOSED: (message) => new DisposedError(message),
  KV_SLOT: backend,
  ABORTED: (message, cause) => new AbortError(message, { cause }),
  INVALID_BATCH: backend,
  DECODE_FATAL: backend,
  NO_EMBEDDING: backend,
  TOKENIZE: backend,
  QUANTIZE: (message, cause) => new ConvertError(message, { cause }),
  OUT_OF_MEMORY: backend,
};

function isNativeErrorCode(code: unknown): code is NativeErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_OF_CODE, code);
}

/** Wraps an error thrown or rejected by the addon into our typed errors (by its `code`, kept as `nativeCode`). */
export function fromNativeError(err: unknown, stack?: string): LogTriageError {
  if (err instanceof LogTriageError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  let typed: LogTriageError;
  if (isNativeErrorCode(code)) {
    typed = ERROR_OF_CODE[code](message, err, code);
    typed.nativeCode = code;
  } else {
    // node-addon-api's own argument errors, or a code this file does not know yet.
    typed = new BackendError(typeof code === 'string' ? `${message} (${code})` : message, { cause: err });
  }
  if (stack) typed.stack = `${typed.name}: ${typed.message}\n${stack.split('\n').slice(1).join('\n')}`;
  return typed;
}

/** Calls into the addon, keeping the caller's stack (native rejections have none). */
async function callNative<T>(fn: () => Promise<T>): Promise<T> {
  const { stack } = new Error();
  try {
    return await fn();
  } catch (err) {
    throw fromNativeError(err, stack);
  }
}

/** callNative() for the addon's synchronous calls. */
function callNativeSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNativeError(err, new Error().stack);
  }
}

// The addon's own Model behind each wrapped one: Context.create() must be handed the native object.
const rawModels = new WeakMap<NativeModel, NativeModel>();

function wrapModel(raw: NativeModel): NativeModel {
  const model: NativeModel = {
    tokenize: (texts, parseSpecial) => callNative(() => raw.tokenize(texts, parseSpecial)),
    info: () => callNativeSync(() => raw.info()),
    dispose: () => callNative(() => raw.dispose()),
  };
  rawModels.set(model, raw);
  return model;
}

function wrapContext(raw: NativeContext): NativeContext {
  return {
    classify: (tokens, offsets, threads) => callNative(() => raw.classify(tokens, offsets, threads)),
    embed: (tokens, offsets, threads) => callNative(() => raw.embed(tokens, offsets, threads)),
    info: () => callNativeSync(() => raw.info()),
    dispose: () => callNative(() => raw.dispose()),
  };
}

/**
 * The addon with every call's failures mapped to typed errors (fromNativeError), Models and
 * Contexts included. loadBinding() returns this; only tests of the addon itself use it raw.
 */
export function wrapBinding(raw: NativeBinding): NativeBinding {
  return {
    Model: { load: async (path, options) => wrapModel(await callNative(() => raw.Model.load(path, options))) },
    Context: {
      create: async (model, options) => wrapContext(await callNative(() => raw.Context.create(rawModels.get(model) ?? model, options))),
    },
    loadBackends: (dir) => callNativeSync(() => raw.loadBackends(dir)),
    loadBackend: (path) => callNativeSync(() => raw.loadBackend(path)),
    devices: () => callNativeSync(() => raw.devices()),
    quantize: (input, output, type, threads) => callNative(() => raw.quantize(input, output, type, threads)),
    systemInfo: () => callNativeSync(() => raw.systemInfo()),
    liveModels: () => callNativeSync(() => raw.liveModels()),
    llamaRelease: raw.llamaRelease,
  };
}
