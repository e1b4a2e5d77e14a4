// SPDX-License-Identifier: MIT
// The single typed view of the native addon (native/*.h document each call), and the mapping
// of its coded errors to our typed error classes.
import { AbortError, BackendError, DisposedError, LogTriageError, ModelLoadError, ValidationError } from './errors.js';

export type QuantizeType = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_k_m';

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
  kvType: 'f32' | 'f16' | 'q8_0';
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
  /** The prefix cache's cell budget in effect (0: off). */
  prefixCacheCells: number;
  /** Cells the prefix cache holds now. */
  prefixCacheHeld: number;
}

export interface NativeContext {
  classify(tokens: Int32Array, offsets: Uint32Array): Promise<Float32Array>;
  info(): NativeContextInfo;
  dispose(): Promise<void>;
}

export interface NativeBinding {
  Model: { load(path: string, options: { gpuLayers: number; useMmap: boolean; device?: string }): Promise<NativeModel> };
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

/** Wraps an error thrown or rejected by the addon into our typed errors (by its `code`). */
export function fromNativeError(err: unknown, stack?: string): LogTriageError {
  if (err instanceof LogTriageError) return err;
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  let typed: LogTriageError;
  switch (code) {
    case 'INVALID_ARGUMENT':
      typed = new ValidationError(message, { cause: err });
      break;
    case 'MODEL_LOAD':
      typed = new ModelLoadError(message, { cause: err });
      break;
    case 'DISPOSED':
      typed = new DisposedError(message);
      break;
    case 'ABORTED':
      typed = new AbortError(message, { cause: err });
      break;
    default:
      typed = new BackendError(typeof code === 'string' ? `${message} (${code})` : message, { cause: err });
  }
  if (stack) typed.stack = `${typed.name}: ${typed.message}\n${stack.split('\n').slice(1).join('\n')}`;
  return typed;
}

/** Calls into the addon, keeping the caller's stack (native rejections have none). */
export async function callNative<T>(fn: () => Promise<T>): Promise<T> {
  const { stack } = new Error();
  try {
    return await fn();
  } catch (err) {
    throw fromNativeError(err, stack);
  }
}
