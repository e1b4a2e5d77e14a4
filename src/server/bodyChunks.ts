// SPDX-License-Identifier: MIT
// An /ingest body kept as the socket delivered it: its chunks, never joined into one buffer or one
// string, decoded piece by piece as the readers reach them. fastify's `parseAs: 'string'` joins a
// body (Buffer.concat) and decodes it whole (toString) in the callback that ends it: two fresh
// 2 MB allocations, 7 ms each on this VM (page faults), so three bodies ending together held the
// event loop for about 40 ms before any of our slices ran.
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { errorCodes, type FastifyRequest } from 'fastify';

export class BodyChunks {
  constructor(
    private readonly chunks: readonly Buffer[],
    readonly bytes: number,
  ) {}

  /** The body's text in order, a chunk at a time (a character split between chunks comes whole in the later piece). */
  *pieces(): Generator<string> {
    const decoder = new StringDecoder('utf8');
    for (const chunk of this.chunks) {
      const piece = decoder.write(chunk);
      if (piece.length > 0) yield piece;
    }
    const rest = decoder.end();
    if (rest.length > 0) yield rest;
  }

  /** The whole text, for what reads a body whole (one record, a body the array scan doubts, --log-bodies). */
  text(): string {
    return Buffer.concat(this.chunks, this.bytes).toString('utf8');
  }

  /** --log-bodies writes the text. */
  toJSON(): string {
    return this.text();
  }
}

/** A body's text, whole or as its pieces, whichever it was read as. */
export type BodyText = string | BodyChunks;

export const piecesOf = (body: BodyText): Iterable<string> => (typeof body === 'string' ? [body] : body.pieces());
export const textOf = (body: BodyText): string => (typeof body === 'string' ? body : body.text());

/**
 * A content-type parser's read of the body (fastify's own checks: the body limit, on the
 * Content-Length and on the bytes as they come, and a Content-Length the body does not match).
 * A chunk that holds a small view of a bigger allocation is copied, so what is kept is the body.
 */
export function collectBody(request: FastifyRequest, payload: Readable & { receivedEncodedLength?: number }, limit: number): Promise<BodyChunks> {
  const contentLength = Number(request.headers['content-length']);
  if (contentLength > limit) return Promise.reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const stop = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk.byteLength * 2 < chunk.buffer.byteLength ? Buffer.from(chunk) : chunk;
      bytes += buffer.byteLength;
      if (bytes > limit || (payload.receivedEncodedLength ?? 0) > limit) {
        stop();
        reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = () => {
      stop();
      if (!Number.isNaN(contentLength) && (payload.receivedEncodedLength || bytes) !== contentLength) {
        reject(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      resolve(new BodyChunks(chunks, bytes));
    };
    const onError = (err: Error & { statusCode?: number }) => {
      stop();
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      reject(err);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
}
