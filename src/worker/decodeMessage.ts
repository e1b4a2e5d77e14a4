// SPDX-License-Identifier: MIT
// A queued message's payload → the text to classify and the record the result goes into.
// Anything that can never be classified throws MessageFormatError (the worker dead-letters it).
import { MessageFormatError } from '../errors.js';
import { readField, type LogRecord } from '../server/ingestRecords.js';

export interface DecodedMessage {
  text: string;
  /** The record the classification is added to: the JSON record, or `{[messageField]: line}` for a raw line. */
  record: LogRecord;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(data: Uint8Array): string {
  try {
    return utf8.decode(data);
  } catch {
    throw new MessageFormatError(`payload is not valid UTF-8 (${data.length} bytes)`);
  }
}

/** Decodes one payload; `input` says whether it is a raw log line or a JSON record. */
export function decodeMessage(data: Uint8Array, input: 'raw' | 'json', messageField: string): DecodedMessage {
  const text = decodeUtf8(data);
  if (input === 'raw') {
    // A shipper's line may keep its newline; the line itself is what is classified.
    const line = text.replace(/\r?\n$/, '');
    if (line.trim().length === 0) throw new MessageFormatError('the line is empty or whitespace only');
    return { text: line, record: { [messageField]: line } };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MessageFormatError(`payload is not JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MessageFormatError(`payload is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}, not a JSON object`);
  }
  const record = value as LogRecord;
  const message = readField(record, messageField);
  if (typeof message !== 'string') throw new MessageFormatError(`no string at '${messageField}'`);
  if (message.trim().length === 0) throw new MessageFormatError(`'${messageField}' is empty or whitespace only`);
  return { text: message, record };
}
