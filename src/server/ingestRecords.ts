// SPDX-License-Identifier: MIT
// `/ingest` bodies as log shippers send them: a JSON array of records (Vector `http` sink with
// the json codec, Fluent Bit `format json`), one record object, or NDJSON (Vector
// `framing.method = "newline_delimited"`, Fluent Bit `format json_lines`).
// Records are written by attackers: each is judged on its own. A value that is not a JSON object,
// an NDJSON line that is not JSON, or a record nested too deeply to be written out again is
// `rejected` alone (answered with its reason, not forwarded); its neighbours go on as usual. Only
// a body with no records to judge (a JSON scalar, more records than the cap) fails as a whole.
import { recordShapeProblem } from '../records/recordShape.js';
import type { LogRecord } from '../records/readField.js';
import { HttpError } from './errors.js';
import { jsonAlterations, type Alteration } from '../records/jsonAlterations.js';

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
