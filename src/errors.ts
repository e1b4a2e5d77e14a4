// SPDX-License-Identifier: MIT
// Typed errors shared by the library, the CLI and the server. Each kind has a fixed `code`
// so callers (and the server's status table) switch on it rather than on message text.

/** The `code` of every error the addon throws or rejects with, as native/common.h names them. */
export const NATIVE_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'MODEL_LOAD',
  'CONTEXT_CREATE',
  'DISPOSED',
  'KV_SLOT',
  'ABORTED',
  'INVALID_BATCH',
  'DECODE_FATAL',
  'NO_EMBEDDING',
  'TOKENIZE',
  'QUANTIZE',
  'OUT_OF_MEMORY',
] as const;
export type NativeErrorCode = (typeof NATIVE_ERROR_CODES)[number];

export type ErrorCode =
  | 'ERR_VALIDATION'
  | 'ERR_EMPTY_INPUT'
  | 'ERR_INPUT_TOO_LONG'
  | 'ERR_OVERLOADED'
  | 'ERR_BACKEND'
  | 'ERR_MODEL_LOAD'
  | 'ERR_MODEL_FORMAT'
  | 'ERR_INTEGRITY'
  | 'ERR_CONVERT'
  | 'ERR_ABORTED'
  | 'ERR_DISPOSED'
  | 'ERR_NATIVE_ADDON'
  | 'ERR_HUB'
  | 'ERR_HUB_AUTH'
  | 'ERR_CHECKSUM'
  | 'ERR_MODEL_NOT_CACHED'
  | 'ERR_MESSAGE_FORMAT'
  | 'ERR_MAX_DELIVER'
  | 'ERR_BROKER'
  | 'ERR_CALIBRATION'
  | 'ERR_ADAPT';

export class LogTriageError extends Error {
  readonly code: ErrorCode;
  /** The addon's own code (native/common.h) when the error came from native code. */
  nativeCode?: NativeErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'LogTriageError';
  }
}

/** An option or argument has the wrong type or value. */
export class ValidationError extends LogTriageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_VALIDATION', message, options);
    this.name = 'ValidationError';
  }
}

/** The input has nothing to classify (empty or whitespace only). */
export class EmptyInputError extends LogTriageError {
  constructor(message = 'Input is empty or whitespace only: there is no token to classify') {
    super('ERR_EMPTY_INPUT', message);
    this.name = 'EmptyInputError';
  }
}

/** The input has more tokens than allowed and `truncation` is 'error'. */
export class InputTooLongError extends LogTriageError {
  /** `index`: the line's position in its call, when the call had several. */
  constructor(readonly tokens: number, readonly maxTokens: number, readonly index?: number) {
    super('ERR_INPUT_TOO_LONG', `${index === undefined ? 'Input' : `texts[${index}]`} has ${tokens} tokens, more than maxTokens ${maxTokens} (set truncation: 'right' or 'left' to truncate)`);
    this.name = 'InputTooLongError';
  }
}

/** The queue is full; retry later. */
export class OverloadedError extends LogTriageError {
  constructor(message: string) {
    super('ERR_OVERLOADED', message);
    this.name = 'OverloadedError';
  }
}

/** llama.cpp / ggml failed at run time (decode error, missing backend, out of memory). */
export class BackendError extends LogTriageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BACKEND', message, options);
    this.name = 'BackendError';
  }
}

/** The model file could not be opened or loaded. */
export class ModelLoadError extends LogTriageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MODEL_LOAD', message, options);
    this.name = 'ModelLoadError';
  }
}

/** The model file is not a valid logtriage GGUF: names the key, tensor or offset at fault. */
export class ModelFormatError extends LogTriageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MODEL_FORMAT', message, options);
    this.name = 'ModelFormatError';
  }
}

/**
 * A model file does not match its content digest (`reason: 'mismatch'`, the message names the first
 * tensor or metadata key that differs), or has no digest to check it against (`'unverifiable'`).
 */
export class IntegrityError extends LogTriageError {
  constructor(readonly reason: 'mismatch' | 'unverifiable', message: string) {
    super('ERR_INTEGRITY', message);
    this.name = 'IntegrityError';
  }
}

/** A HuggingFace checkpoint cannot be converted: names the file or config field at fault. */
export class ConvertError extends LogTriageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONVERT', message, options);
    this.name = 'ConvertError';
  }
}

/** The operation was cancelled through an AbortSignal. */
export class AbortError extends LogTriageError {
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super('ERR_ABORTED', message, options);
    this.name = 'AbortError';
  }
}

/** The classifier was disposed. */
export class DisposedError extends LogTriageError {
  constructor(message = 'The classifier has been disposed') {
    super('ERR_DISPOSED', message);
    this.name = 'DisposedError';
  }
}

/** The native addon is missing or was built for another Node ABI. */
export class NativeAddonError extends LogTriageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NATIVE_ADDON', message, options);
    this.name = 'NativeAddonError';
  }
}

/** The HuggingFace hub (or HF_ENDPOINT mirror) could not be reached, or answered with an error. */
export class HubError extends LogTriageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_HUB', message, options);
    this.name = 'HubError';
  }
}

/** The hub refused access (HTTP 401/403): the repo is gated or private and HF_TOKEN is missing or lacks access. */
export class HubAuthError extends LogTriageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_HUB_AUTH', message, options);
    this.name = 'HubAuthError';
  }
}

/** A downloaded file does not match the hub's checksum (ETag / X-Linked-Etag); the file was deleted. */
export class ChecksumError extends LogTriageError {
  constructor(message: string) {
    super('ERR_CHECKSUM', message);
    this.name = 'ChecksumError';
  }
}

/** A repo id names a model that is not in the local cache (and may not be downloaded now): says how to pull it. */
export class ModelNotCachedError extends LogTriageError {
  constructor(message: string) {
    super('ERR_MODEL_NOT_CACHED', message);
    this.name = 'ModelNotCachedError';
  }
}

/** A queued message cannot be classified as it is (not UTF-8, not JSON, no message field); it is dead-lettered, never retried. */
export class MessageFormatError extends LogTriageError {
  constructor(message: string) {
    super('ERR_MESSAGE_FORMAT', message);
    this.name = 'MessageFormatError';
  }
}

/** A queued message was delivered more times than allowed without being acknowledged (each try crashed or timed out). */
export class MaxDeliverError extends LogTriageError {
  constructor(readonly deliveries: number, readonly maxDeliver: number) {
    super('ERR_MAX_DELIVER', `delivered ${deliveries} times, more than max-deliver ${maxDeliver}: every earlier try ended without an ack`);
    this.name = 'MaxDeliverError';
  }
}

/** The message broker (NATS JetStream) refused a request, or its streams and consumer are not set up as required. */
export class BrokerError extends LogTriageError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BROKER', message, options);
    this.name = 'BrokerError';
  }
}

/** Calibration cannot be fitted from the labeled lines given: too few per label, or no finite best fit. */
export class CalibrationError extends LogTriageError {
  constructor(message: string) {
    super('ERR_CALIBRATION', message);
    this.name = 'CalibrationError';
  }
}

/**
 * `logtriage adapt` cannot fit or will not write a head: too few lines for a label, labels that are
 * not the model's (without `--new-labels`), or a new head worse on held-out lines than the current one
 * (without `--force`). Nothing is written.
 */
export class AdaptError extends LogTriageError {
  constructor(message: string) {
    super('ERR_ADAPT', message);
    this.name = 'AdaptError';
  }
}
