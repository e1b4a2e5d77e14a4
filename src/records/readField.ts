// SPDX-License-Identifier: MIT
// What the server's /ingest and the worker both read from a log record: the message at a field
// (a key, else a dotted path) and why a record cannot be classified.

/** A parsed log record: a JSON object as a shipper sends it. */
export type LogRecord = Record<string, unknown>;

/** The value at `field`: a key of the record itself, else a dotted path into nested objects. */
export function readField(record: LogRecord, field: string): unknown {
  if (Object.hasOwn(record, field)) return record[field];
  let value: unknown = record;
  for (const key of field.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as LogRecord)[key];
  }
  return value;
}

/** Why a record cannot be classified, or undefined when its message is fine. */
export function skipReason(message: unknown, field: string): string | undefined {
  if (typeof message !== 'string') return `no string at '${field}'`;
  if (message.trim().length === 0) return `'${field}' is blank`;
  return undefined;
}
