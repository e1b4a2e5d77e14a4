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
