// SPDX-License-Identifier: MIT
// Streams log lines out of a byte stream the way logs are written: LF, CRLF and a lone CR each
// end a line. Lines are split on bytes (CR and LF never occur inside a UTF-8 sequence), then
// decoded; invalid UTF-8 becomes U+FFFD and the line is flagged.
import type { Readable } from 'node:stream';

export interface LogLine {
  /** 1-based line number in the input. */
  lineNumber: number;
  text: string;
  /** The bytes were not valid UTF-8 (replaced by U+FFFD). */
  invalidUtf8: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function decode(bytes: Uint8Array, lineNumber: number): LogLine {
  try {
    return { lineNumber, text: strict.decode(bytes), invalidUtf8: false };
  } catch {
    return { lineNumber, text: lenient.decode(bytes), invalidUtf8: true };
  }
}

export async function* readLogLines(input: Readable | AsyncIterable<Uint8Array>): AsyncGenerator<LogLine> {
  let carry: Uint8Array = new Uint8Array(0);
  let lineNumber = 0;
  let pendingCr = false; // the previous chunk ended with CR: a leading LF belongs to it
  for await (const chunk of input as AsyncIterable<Uint8Array | string>) {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (pendingCr && bytes.length > 0 && bytes[0] === LF) bytes = bytes.subarray(1);
    pendingCr = false;
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b !== LF && b !== CR) continue;
      const piece = bytes.subarray(start, i);
      const line = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
      carry = new Uint8Array(0);
      yield decode(line, ++lineNumber);
      if (b === CR) {
        if (i + 1 < bytes.length) {
          if (bytes[i + 1] === LF) i++;
        } else {
          pendingCr = true;
        }
      }
      start = i + 1;
    }
    if (start < bytes.length) carry = carry.length > 0 ? Buffer.concat([carry, bytes.subarray(start)]) : Buffer.from(bytes.subarray(start));
  }
  if (carry.length > 0) yield decode(carry, ++lineNumber);
}

/**
 * Groups items into arrays of at most `maxItems`, handing a partial group on as soon as the
 * source has nothing ready (it waits on I/O): a file is read in large groups, while a followed
 * file or a slow pipe gets each line classified when it arrives rather than when a group fills.
 */
export async function* chunkWhenIdle<T>(source: AsyncIterable<T>, maxItems: number): AsyncGenerator<T[]> {
  const it = source[Symbol.asyncIterator]();
  const IDLE = Symbol('idle');
  // setImmediate runs after pending I/O callbacks, so it only wins when the source is waiting on I/O.
  const idle = () => new Promise<typeof IDLE>((resolve) => setImmediate(() => resolve(IDLE)));
  let pending = it.next();
  try {
    for (;;) {
      const first = await pending;
      if (first.done) return;
      const chunk = [first.value];
      pending = it.next();
      while (chunk.length < maxItems) {
        const next = await Promise.race([pending, idle()]);
        if (next === IDLE) break;
        if (next.done) {
          yield chunk;
          return;
        }
        chunk.push(next.value);
        pending = it.next();
      }
      yield chunk;
    }
  } finally {
    // Left behind when the consumer stops early: its failure must not surface as unhandled, and
    // the source is told to finish (queued behind that read).
    pending.catch(() => {});
    it.return?.().catch(() => {});
  }
}

/**
 * The items of `source` until `signal` aborts; then it ends at once, even if the source is
 * waiting for input (stdin, a followed file), and tells the source to finish without waiting.
 */
export async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const aborted = new Promise<IteratorReturnResult<undefined>>((resolve) => {
    const end = () => resolve({ done: true, value: undefined });
    if (signal.aborted) end();
    else signal.addEventListener('abort', end, { once: true });
  });
  for (;;) {
    const read = it.next();
    const next = await Promise.race([read, aborted]);
    if (next.done) {
      read.catch(() => {}); // abandoned when aborted: a later failure must not surface as unhandled
      it.return?.().catch(() => {});
      return;
    }
    yield next.value;
  }
}
