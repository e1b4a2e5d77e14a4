// SPDX-License-Identifier: MIT
// The one table from error kind to HTTP status, and the mapping of library and fastify errors
// onto it. Bodies are TEI's `{error, error_type}`. Codes follow what log shippers retry: 429 and
// 5xx for conditions that pass (Vector and Fluent Bit retry them), 4xx only for requests that
// can never succeed.
import { LogTriageError, type ErrorCode } from '../errors.js';

export const ERROR_STATUS = {
  /** The request is well-formed JSON but not a valid request (TEI `validation`). */
  validation: 422,
  /** Nothing to classify: an empty or whitespace-only input, an empty batch (TEI `empty`). */
  empty: 400,
  /** The body cannot be decoded: malformed JSON or NDJSON, bad gzip, wrong Content-Length. */
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  /** The body is larger than `payloadLimit` (after decompression). */
  payload_too_large: 413,
  /** A Content-Type or Content-Encoding the route does not read. */
  unsupported_media_type: 415,
  /** Too many requests in flight or lines queued; retry after `Retry-After` (TEI `overloaded`). */
  overloaded: 429,
  /** Inference failed in llama.cpp (TEI `backend`). */
  backend: 424,
  /** A bug in logtriage. */
  internal: 500,
  /** `--forward`: the downstream answered an error, so the records did not arrive. */
  bad_gateway: 502,
  /** The model is not loaded or the server is draining (TEI `unhealthy`). */
  unhealthy: 503,
  /** `--forward`: the downstream did not answer (refused, timed out); retry after `Retry-After`. */
  downstream_unavailable: 503,
  /** The client went away before the answer; recorded in logs and metrics, never sent. */
  cancelled: 499,
} as const;

export type ErrorKind = keyof typeof ERROR_STATUS;

/** Seconds a client should wait after a 429. */
export const RETRY_AFTER_SECONDS = 1;

export interface ErrorBody {
  error: string;
  error_type: ErrorKind;
}

/** An error the server answers with `ERROR_STATUS[kind]`. */
export class HttpError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }

  get status(): number {
    return ERROR_STATUS[this.kind];
  }

  body(): ErrorBody {
    return { error: this.message, error_type: this.kind };
  }
}

// Codes a request can meet; any other library error is a bug here (500).
const KIND_OF_LIBRARY_CODE: Partial<Record<ErrorCode, ErrorKind>> = {
  ERR_VALIDATION: 'validation',
  ERR_EMPTY_INPUT: 'empty',
  ERR_INPUT_TOO_LONG: 'validation',
  ERR_OVERLOADED: 'overloaded',
  ERR_BACKEND: 'backend',
  ERR_ABORTED: 'cancelled',
  ERR_DISPOSED: 'unhealthy',
  ERR_MODEL_LOAD: 'unhealthy',
  ERR_MODEL_FORMAT: 'unhealthy',
  ERR_NATIVE_ADDON: 'unhealthy',
};

const KIND_OF_FASTIFY_CODE: Record<string, ErrorKind> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
};

/** Maps anything thrown while serving a request onto the table. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof LogTriageError) return new HttpError(KIND_OF_LIBRARY_CODE[err.code] ?? 'internal', err.message);
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && code in KIND_OF_FASTIFY_CODE) return new HttpError(KIND_OF_FASTIFY_CODE[code]!, message);
  // Stream errors while reading the body (a truncated gzip member, a reset upload) carry a 4xx.
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new HttpError('bad_request', message);
  return new HttpError('internal', 'Internal error');
}
