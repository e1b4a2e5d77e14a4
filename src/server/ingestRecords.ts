// SPDX-License-Identifier: MIT
// `/ingest` bodies as log shippers send them: a JSON array of records (Vector `http` sink with
// the json codec, Fluent Bit `format json`), one record object, or NDJSON (Vector
// `framing.method = "newline_delimited"`, Fluent Bit `format json_lines`).
import type { ClassificationResult } from '../classifier.js';
import { toEcs } from '../ecs.js';
import { HttpError } from './errors.js';
import type { IngestAnnotation } from './schemas.js';

export type LogRecord = Record<string, unknown>;

/** An NDJSON body, parsed; kept apart from a JSON body so the answer uses the same framing. */
export class NdjsonBody {
  constructor(readonly records: unknown[]) {}
}

/** Parses NDJSON: one JSON value per line, LF or CRLF; blank lines are skipped. */
export function parseNdjson(text: string): NdjsonBody {
  const records: unknown[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim().length === 0) return;
    try {
      records.push(JSON.parse(line));
    } catch (err) {
      throw new HttpError('bad_request', `NDJSON line ${i + 1} is not valid JSON: ${(err as Error).message}`);
    }
  });
  return new NdjsonBody(records);
}

/** The records of a parsed body; each must be a JSON object. */
export function recordsOf(body: unknown): { records: LogRecord[]; framing: 'ndjson' | 'array' | 'object' } {
  const framing = body instanceof NdjsonBody ? 'ndjson' : Array.isArray(body) ? 'array' : 'object';
  const values = body instanceof NdjsonBody ? body.records : Array.isArray(body) ? body : [body];
  values.forEach((v, i) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new HttpError('validation', `record ${i} is ${v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`}, not a JSON object`);
    }
  });
  return { records: values as LogRecord[], framing };
}

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

/** The record with the classification added: `logtriage: {...}`, or ECS fields when `ecs`. */
export function enrichRecord(
  record: LogRecord,
  outcome: ClassificationResult | string,
  labels: readonly string[],
  ecs: boolean,
  alert?: boolean,
): LogRecord {
  if (typeof outcome === 'string') return { ...record, logtriage: { skipped: outcome } satisfies IngestAnnotation };
  const marks = { review: outcome.review, ...(alert !== undefined ? { alert } : {}) };
  if (ecs) {
    const fields = toEcs(outcome, labels);
    const event = record.event !== null && typeof record.event === 'object' && !Array.isArray(record.event) ? record.event : {};
    // With alert thresholds, only a line over its label's threshold is an alert.
    const kind = alert === undefined ? {} : { kind: alert ? 'alert' : 'event' };
    return { ...record, event: { ...event, ...fields.event, ...kind }, logtriage: { ...fields.logtriage, ...marks } };
  }
  const annotation: IngestAnnotation = {
    label: outcome.label,
    score: outcome.score,
    ...(outcome.truncated ? { truncated: true as const } : {}),
    ...(outcome.flags.length > 0 ? { flags: outcome.flags } : {}),
    ...marks,
  };
  return { ...record, logtriage: annotation };
}
