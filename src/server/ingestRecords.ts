// SPDX-License-Identifier: MIT
// `/ingest` bodies as log shippers send them: a JSON array of records (Vector `http` sink with
// the json codec, Fluent Bit `format json`), one record object, or NDJSON (Vector
// `framing.method = "newline_delimited"`, Fluent Bit `format json_lines`).
// Records are written by attackers: each is judged on its own. A value that is not a JSON object,
// an NDJSON line that is not JSON, or a record nested too deeply to be written out again is
// `rejected` alone (answered with its reason, not forwarded); its neighbours go on as usual. Only
// a body with no records to judge (a JSON scalar, more records than the cap) fails as a whole.
import type { ClassificationResult } from '../classifier.js';
import { toEcs } from '../ecs.js';
import { recordShapeProblem } from '../recordShape.js';
import { HttpError } from './errors.js';
import { jsonAlterations, type Alteration } from '../jsonAlterations.js';
import type { IngestAnnotation } from './schemas.js';

export type LogRecord = Record<string, unknown>;

/** An NDJSON line that is not JSON: judged as one record. */
export class InvalidLine {
  constructor(readonly reason: string) {}
}

/** An NDJSON body, parsed; kept apart from a JSON body so the answer uses the same framing. */
export class NdjsonBody {
  constructor(
    readonly records: unknown[],
    /** Per record, what JSON.parse changed in it (jsonAlterations.ts), where anything. */
    readonly altered: Array<Set<Alteration> | undefined> = [],
  ) {}
}

/** A JSON body, parsed, with what JSON.parse changed per record (per array element, or in the one object). */
export class JsonBody {
  constructor(
    readonly value: unknown,
    readonly altered: Array<Set<Alteration> | undefined> = [],
  ) {}
}

/** Parses a JSON /ingest body and finds what JSON.parse changes in each record. */
export function parseJsonBody(text: string): JsonBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError('bad_request', `the body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  return new JsonBody(value, jsonAlterations(text, Array.isArray(value)));
}

/** The 413 for a body of more than `maxRecords` records. */
export function tooManyRecords(count: number | string, maxRecords: number): HttpError {
  return new HttpError('payload_too_large', `the body holds ${count} records, more than max_ingest_records ${maxRecords}: send smaller batches`);
}

/** Parses NDJSON: one JSON value per line, LF or CRLF; blank lines are skipped, a bad line is an InvalidLine. */
export function parseNdjson(text: string, maxRecords = Infinity): NdjsonBody {
  const records: unknown[] = [];
  const altered: Array<Set<Alteration> | undefined> = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim().length === 0) return;
    // Refused before the rest is parsed: the cap bounds the work, not only the answer.
    if (records.length === maxRecords) throw tooManyRecords(`more than ${maxRecords}`, maxRecords);
    try {
      records.push(JSON.parse(line));
      altered[records.length - 1] = jsonAlterations(line, false)[0];
    } catch (err) {
      records.push(new InvalidLine(`NDJSON line ${i + 1} is not valid JSON: ${(err as Error).message}`));
    }
  });
  return new NdjsonBody(records, altered);
}

/** One value of the body: a record to enrich (and what JSON.parse changed in it), or why it is rejected on its own. */
export type IngestItem = { record: LogRecord; altered?: Alteration[] } | { rejected: string };

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

/** Judges one value of the body. */
function itemOf(value: unknown, index: number, altered: Set<Alteration> | undefined): IngestItem {
  if (value instanceof InvalidLine) return { rejected: value.reason };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { rejected: `record ${index} is ${typeName(value)}, not a JSON object` };
  const problem = recordShapeProblem(value);
  if (problem !== undefined) return { rejected: `record ${index}: ${problem}` };
  return altered !== undefined && altered.size > 0 ? { record: value as LogRecord, altered: [...altered] } : { record: value as LogRecord };
}

/** The records of a parsed body, each judged alone; a body that is a JSON scalar has none (422). */
export function recordsOf(parsed: unknown, maxRecords = Infinity): { items: IngestItem[]; framing: 'ndjson' | 'array' | 'object' } {
  const body = parsed instanceof JsonBody ? parsed.value : parsed;
  const altered = parsed instanceof JsonBody || parsed instanceof NdjsonBody ? parsed.altered : [];
  const framing = body instanceof NdjsonBody ? 'ndjson' : Array.isArray(body) ? 'array' : 'object';
  const values = body instanceof NdjsonBody ? body.records : Array.isArray(body) ? body : [body];
  if (values.length > maxRecords) throw tooManyRecords(values.length, maxRecords);
  if (framing === 'object' && (body === null || typeof body !== 'object')) {
    throw new HttpError('validation', `the body is ${typeName(body)}: send a JSON object, an array of them, or NDJSON`);
  }
  return { items: values.map((v, i) => itemOf(v, i, altered[i])), framing };
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
  // With the template tier a result says how it was obtained, wherever it is written.
  const tier = outcome.via !== undefined ? { via: outcome.via, ...(outcome.template !== undefined ? { template_id: outcome.template.id } : {}) } : {};
  const marks = { review: outcome.review, ...(alert !== undefined ? { alert } : {}), ...tier };
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
