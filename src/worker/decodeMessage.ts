// SPDX-License-Identifier: MIT
// A queued message's payload → the texts to classify and the records their results go into.
// Anything that can never be classified throws MessageFormatError (the worker dead-letters it).
// A JSON array is Fluent Bit's `nats` output framing, one flush per message:
// `[[timestamp, {record}], ...]`; each entry is decoded alone, so a bad one is dead-lettered
// without its siblings.
import { MessageFormatError } from '../errors.js';
import { jsonAlterations, type Alteration } from '../records/jsonAlterations.js';
import { recordShapeProblem } from '../records/recordShape.js';
import { readField, type LogRecord } from '../records/readField.js';

export interface DecodedMessage {
  text: string;
  /** What JSON.parse changed in the record (a rounded big integer, Infinity, a repeated key); absent when nothing. */
  altered?: Alteration[];
  /** The record the classification is added to: the JSON record, or `{[messageField]: line}` for a raw line. */
  record: LogRecord;
}

/** One message's records: one, or with Fluent Bit's framing one per array entry. */
export type DecodedPayload =
  | { framed: false; entries: [DecodedMessage] }
  | {
      framed: true;
      /** Per array entry, in order: its record, or why it cannot be classified. */
      entries: Array<DecodedMessage | MessageFormatError>;
      /** The array entries as sent, for dead letters. */
      raw: unknown[];
    };

/** Where Fluent Bit's timestamp (seconds since the epoch, a float) goes in a record that has no such key: its own json_date_key default. */
export const FLUENT_BIT_DATE_KEY = 'date';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(data: Uint8Array): string {
  try {
    return utf8.decode(data);
  } catch {
    throw new MessageFormatError(`payload is not valid UTF-8 (${data.length} bytes)`);
  }
}

const typeName = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);

function decodeRecord(value: unknown, messageField: string, what: string): DecodedMessage {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new MessageFormatError(`${what} is ${typeName(value)}, not a JSON object`);
  const record = value as LogRecord;
  // Nested too deeply to be written out again: dead-lettered alone with this cause, not nak'd with its batch.
  const problem = recordShapeProblem(record);
  if (problem !== undefined) throw new MessageFormatError(`${what}: ${problem}`);
  const message = readField(record, messageField);
  if (typeof message !== 'string') throw new MessageFormatError(`no string at '${messageField}'`);
  if (message.trim().length === 0) throw new MessageFormatError(`'${messageField}' is empty or whitespace only`);
  return { text: message, record };
}

function decodeFluentBitEntry(entry: unknown, index: number, messageField: string): DecodedMessage {
  if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'number') {
    throw new MessageFormatError(`array entry ${index} is not [timestamp, {record}] (Fluent Bit's nats framing)`);
  }
  const decoded = decodeRecord(entry[1], messageField, `the record of array entry ${index}`);
  if (!(FLUENT_BIT_DATE_KEY in decoded.record)) decoded.record = { ...decoded.record, [FLUENT_BIT_DATE_KEY]: entry[0] };
  return decoded;
}

/** Decodes one payload; `input` says whether it is a raw log line or JSON (a record, or Fluent Bit's array of them). */
export function decodeMessage(data: Uint8Array, input: 'raw' | 'json', messageField: string): DecodedPayload {
  const text = decodeUtf8(data);
  if (input === 'raw') {
    // A shipper's line may keep its newline; the line itself is what is classified.
    const line = text.replace(/\r?\n$/, '');
    if (line.trim().length === 0) throw new MessageFormatError('the line is empty or whitespace only');
    return { framed: false, entries: [{ text: line, record: { [messageField]: line } }] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MessageFormatError(`payload is not JSON: ${(err as Error).message}`);
  }
  const altered = jsonAlterations(text, Array.isArray(value));
  const withAltered = (decoded: DecodedMessage, i: number): DecodedMessage => {
    const found = altered[i];
    return found !== undefined && found.size > 0 ? { ...decoded, altered: [...found] } : decoded;
  };
  if (!Array.isArray(value)) return { framed: false, entries: [withAltered(decodeRecord(value, messageField, 'payload'), 0)] };
  if (value.length === 0) throw new MessageFormatError('payload is an empty array (Fluent Bit framing without records)');
  const entries = value.map((entry, i) => {
    try {
      return withAltered(decodeFluentBitEntry(entry, i, messageField), i);
    } catch (err) {
      if (err instanceof MessageFormatError) return err;
      throw err;
    }
  });
  return { framed: true, entries, raw: value };
}
