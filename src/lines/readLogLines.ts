// SPDX-License-Identifier: MIT
// Streams log lines out of a byte stream the way logs are written: LF, CRLF and a lone CR each
// end a line. Lines are split on bytes (CR and LF never occur inside a UTF-8 sequence), then
// decoded; invalid UTF-8 becomes U+FFFD and the line is flagged. A line longer than
// `maxLineBytes` keeps its first bytes (cut at a character boundary), is flagged `truncated`,
// and the rest up to the next line end is skipped unread: memory stays bounded by the cap and
// the time linear in the input (each byte is copied at most once, whatever the chunking).
import type { Readable } from 'node:stream';

export interface LogLine {
  /** 1-based line number in the input. */
  lineNumber: number;
  text: string;
  /** The bytes were not valid UTF-8 (replaced by U+FFFD). */
  invalidUtf8: boolean;
  /** The line was longer than `maxLineBytes`: `text` is its start. */
  truncated: boolean;
}

export interface ReadLogLinesOptions {
  /** Most bytes kept of one line (default DEFAULT_MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

/** 4 MiB: far above any real log line, far below what makes a line a memory problem. */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function decode(bytes: Uint8Array, lineNumber: number, truncated: boolean): LogLine {
  try {
    return { lineNumber, text: strict.decode(bytes), invalidUtf8: false, truncated };
  } catch {
    return { lineNumber, text: lenient.decode(bytes), invalidUtf8: true, truncated };
  }
}

/** `bytes` without a UTF-8 sequence cut short at its end (what a byte cap leaves). */
export function cutAtCharBoundary(bytes: Uint8Array): Uint8Array {
  // The last lead byte within the last 4 bytes, and how long its sequence should be.
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const want = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return want > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}

/** The bytes of the line being read, in pieces, up to the cap; one copy when the line ends. */
class PendingLine {
  private parts: Uint8Array[] = [];
  private length = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  /** Keeps what fits of `piece` (copied: the chunk may be reused by its source). */
  add(piece: Uint8Array): void {
    if (this.truncated || piece.length === 0) return;
    const room = this.maxBytes - this.length;
    if (piece.length > room) {
      this.truncated = true;
      piece = piece.subarray(0, room);
    }
    this.parts.push(Uint8Array.prototype.slice.call(piece));
    this.length += piece.length;
  }

  get empty(): boolean {
    return this.length === 0 && !this.truncated;
  }

  /** The line ended with `last` (not copied): its bytes, and the state reset for the next line. */
  take(last: Uint8Array): { bytes: Uint8Array; truncated: boolean } {
    let bytes: Uint8Array;
    if (this.parts.length === 0 && last.length <= this.maxBytes && !this.truncated) {
      bytes = last;
    } else {
      this.add(last);
      bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.length);
    }
    const truncated = this.truncated;
    if (truncated) bytes = cutAtCharBoundary(bytes);
    this.parts = [];
    this.length = 0;
    this.truncated = false;
    return { bytes, truncated };
  }
}

export async function* readLogLines(input: Readable | AsyncIterable<Uint8Array>, options: ReadLogLinesOptions = {}): AsyncGenerator<LogLine> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
  const pending = new PendingLine(maxLineBytes);
  let lineNumber = 0;
  let pendingCr = false; // the previous chunk ended with CR: a leading LF belongs to it
  for await (const chunk of input as AsyncIterable<Uint8Array | string>) {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (pendingCr && bytes.length > 0 && bytes[0] === LF) bytes = bytes.subarray(1);
    pendingCr = false;
    // indexOf runs natively; each position is searched once per delimiter.
    let nextLf = bytes.indexOf(LF);
    let nextCr = bytes.indexOf(CR);
    let start = 0;
    while (nextLf !== -1 || nextCr !== -1) {
      const i = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      const { bytes: line, truncated } = pending.take(bytes.subarray(start, i));
      yield decode(line, ++lineNumber, truncated);
      let end = i + 1;
      if (bytes[i] === CR) {
        if (end < bytes.length) {
          if (bytes[end] === LF) end++;
        } else {
          pendingCr = true;
        }
      }
      start = end;
      if (nextLf !== -1 && nextLf < start) nextLf = bytes.indexOf(LF, start);
      if (nextCr !== -1 && nextCr < start) nextCr = bytes.indexOf(CR, start);
    }
    if (start < bytes.length) pending.add(bytes.subarray(start));
  }
  if (!pending.empty) {
    const { bytes, truncated } = pending.take(new Uint8Array(0));
    yield decode(bytes, ++lineNumber, truncated);
  }
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
