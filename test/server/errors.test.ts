// SPDX-License-Identifier: MIT
// The server's one kind -> status table and what maps onto it.
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { ERROR_STATUS, HttpError, toHttpError } from '../../src/server/errors.js';

describe('toHttpError()', () => {
  const cases: Array<[string, unknown, keyof typeof ERROR_STATUS, number]> = [
    ['ValidationError', new errors.ValidationError('bad'), 'validation', 422],
    ['InputTooLongError', new errors.InputTooLongError(10, 5), 'validation', 422],
    ['EmptyInputError', new errors.EmptyInputError(), 'empty', 400],
    ['OverloadedError', new errors.OverloadedError('full'), 'overloaded', 429],
    ['BackendError', new errors.BackendError('decode'), 'backend', 424],
    ['AbortError', new errors.AbortError(), 'cancelled', 499],
    ['DisposedError', new errors.DisposedError(), 'unhealthy', 503],
    ['ModelLoadError', new errors.ModelLoadError('gone'), 'unhealthy', 503],
    ['ModelFormatError', new errors.ModelFormatError('bad file'), 'unhealthy', 503],
    ['NativeAddonError', new errors.NativeAddonError('no addon'), 'unhealthy', 503],
    ['a library error no request can meet (ConvertError)', new errors.ConvertError('x'), 'internal', 500],
    ['fastify body too large', Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 'payload_too_large', 413],
    ['fastify media type', Object.assign(new Error('type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), 'unsupported_media_type', 415],
    ['fastify bad JSON', Object.assign(new Error('json'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), 'bad_request', 400],
    ['a stream error with a 4xx status', Object.assign(new Error('unexpected end of file'), { statusCode: 400 }), 'bad_request', 400],
    ['anything else', new TypeError('undefined is not a function'), 'internal', 500],
    ['a thrown string', 'oops', 'internal', 500],
  ];
  it.each(cases)('%s', (_, err, kind, status) => {
    const http = toHttpError(err);
    expect([http.kind, http.status]).toEqual([kind, status]);
  });

  it('keeps library messages, hides internal ones, and shapes the body as TEI does', () => {
    expect(toHttpError(new errors.ValidationError('inputs[0] is not a string')).body()).toEqual({ error: 'inputs[0] is not a string', error_type: 'validation' });
    expect(toHttpError(new TypeError('secret detail')).body()).toEqual({ error: 'Internal error', error_type: 'internal' });
    const own = new HttpError('unauthorized', 'no key');
    expect(toHttpError(own)).toBe(own);
  });

  it('answers 429 and 5xx only for conditions that pass, 4xx for requests that never succeed', () => {
    const retried = Object.entries(ERROR_STATUS).filter(([, s]) => s === 429 || s >= 500).map(([k]) => k).sort();
    // bad_gateway / downstream_unavailable: --forward failed, so the shipper must retry the batch.
    expect(retried).toEqual(['bad_gateway', 'downstream_unavailable', 'internal', 'overloaded', 'unhealthy']);
  });
});
