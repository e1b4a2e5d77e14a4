// SPDX-License-Identifier: MIT
// `/ingest` bodies as log shippers send them: a JSON array of records (Vector `http` sink with
// the json codec, Fluent Bit `format json`), one record object, or NDJSON (Vector
// `framing.method = "newline_delimited"`, Fluent Bit `format json_lines`).
// Records are written by attackers: each is judged on its own. A value that is not a JSON object,
// an NDJSON line that is not JSON, or a record nested too deeply to be written out again is
// `rejected` alone (answered with its reason, not forwarded); its neighbours go on as usual. Only
// a body with no records to judge (a JSON scalar, more records than the cap) fails as a whole.
// Records that are not classified cost nothing per record once judged: consecutive ones with the
// same outcome become one run (a count and one reason), so neither what is kept nor the answer
// grows with a body of empty records. The body is read in slices with the event loop served
// between them (a 2 MB body holds 700,000 `{}` lines).
import { setImmediate as nextTurn } from 'node:timers/promises';
import { readField, skipReason, type LogRecord } from '../records/readField.js';
import { recordShapeProblem } from '../records/recordShape.js';
import { HttpError } from './errors.js';
import { jsonAlterations, type Alteration } from '../records/jsonAlterations.js';

/** An NDJSON body, not yet parsed: readIngestItems reads it line by line, in slices. */
export class NdjsonText {
  constructor(readonly text: string) {}
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

/** A record to classify, and what JSON.parse changed in it. */
export interface RecordItem {
  record: LogRecord;
  altered?: Alteration[];
}

/** Why consecutive records were not classified; the same reason for each (no record index: the order says which). */
export type RunAnnotation = { skipped: string; altered?: Alteration[] } | { rejected: string };

/**
 * `records` consecutive records answered alike: skipped (no message) or rejected, for one reason.
 * Skipped records are kept only when they go on to --forward.
 */
export interface RunItem {
  run: RunAnnotation;
  records: number;
  kept?: RecordItem[];
}

export type IngestItem = RecordItem | RunItem;

export interface ReadOptions {
  maxRecords: number;
  messageField: string;
  /** Keep skipped records in their run (--forward sends them on); otherwise only counted. */
  keepSkipped: boolean;
  /** Records judged between two turns of the event loop. */
  sliceRecords?: number;
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`);

/**
 * Appends records, merging each skipped or rejected one into the run before it when the reason is
 * the same. A run of one record is one shared object per reason (unless it keeps its record for
 * --forward): a body whose records alternate between two outcomes costs one array slot per record.
 */
class ItemList {
  readonly items: IngestItem[] = [];
  private lastKey: string | undefined;
  private readonly singles = new Map<string, RunItem>();
  count = 0;

  constructor(private readonly options: ReadOptions) {}

  reject(reason: string): void {
    this.addRun({ rejected: reason }, `r\0${reason}`);
  }

  add(value: unknown, altered: Set<Alteration> | undefined): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return this.reject(`${typeName(value)}, not a JSON object`);
    const problem = recordShapeProblem(value);
    if (problem !== undefined) return this.reject(problem);
    const record = value as LogRecord;
    const item: RecordItem = altered !== undefined && altered.size > 0 ? { record, altered: [...altered] } : { record };
    const skipped = skipReason(readField(record, this.options.messageField), this.options.messageField);
    if (skipped === undefined) {
      this.items.push(item);
      this.lastKey = undefined;
      this.count++;
      return;
    }
    const run: RunAnnotation = item.altered ? { skipped, altered: item.altered } : { skipped };
    this.addRun(run, `s\0${skipped}\0${item.altered?.join(',') ?? ''}`, this.options.keepSkipped ? item : undefined);
  }

  private addRun(run: RunAnnotation, key: string, kept?: RecordItem): void {
    this.count++;
    const at = this.items.length - 1;
    const last = this.items[at];
    if (key === this.lastKey && last !== undefined && 'run' in last) {
      if (kept) {
        last.records++;
        last.kept!.push(kept);
      } else {
        // A shared single becomes a run of its own.
        this.items[at] = { run: last.run, records: last.records + 1 };
      }
      return;
    }
    this.lastKey = key;
    if (kept) {
      this.items.push({ run, records: 1, kept: [kept] });
      return;
    }
    let single = this.singles.get(key);
    if (single === undefined) this.singles.set(key, (single = { run, records: 1 }));
    this.items.push(single);
  }
}

const DEFAULT_SLICE = 2000;

/** NDJSON: one JSON value per line, LF or CRLF; blank lines are skipped, a bad line is rejected alone. */
async function readNdjson(text: string, list: ItemList, options: ReadOptions): Promise<void> {
  const slice = options.sliceRecords ?? DEFAULT_SLICE;
  let lines = 0;
  // indexOf, not split: a 2 MB body of 700,000 lines is never one array of 700,000 strings, and
  // a body over the cap is refused after cap + 1 lines, not after splitting all of it.
  for (let start = 0; start < text.length; ) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl;
    const raw = text.slice(start, end);
    start = end + 1;
    // Blank lines count too: a body of 2,000,000 newlines is as long a loop.
    if (++lines % slice === 0) await nextTurn();
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim().length === 0) continue;
    // Refused before the rest is parsed: the cap bounds the work, not only the answer.
    if (list.count === options.maxRecords) throw tooManyRecords(`more than ${options.maxRecords}`, options.maxRecords);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      list.reject('not valid JSON');
      continue;
    }
    list.add(value, jsonAlterations(line, false)[0]);
  }
}

/**
 * The records of a parsed body (NdjsonText, JsonBody, or a value), each judged alone; a body that
 * is a JSON scalar has none (422), one of more than `maxRecords` records is refused (413).
 */
export async function readIngestItems(parsed: unknown, options: ReadOptions): Promise<{ items: IngestItem[]; framing: 'ndjson' | 'array' | 'object'; count: number }> {
  const list = new ItemList(options);
  if (parsed instanceof NdjsonText) {
    await readNdjson(parsed.text, list, options);
    return { items: list.items, framing: 'ndjson', count: list.count };
  }
  const body = parsed instanceof JsonBody ? parsed.value : parsed;
  const altered = parsed instanceof JsonBody ? parsed.altered : [];
  if (!Array.isArray(body)) {
    if (body === null || typeof body !== 'object') {
      throw new HttpError('validation', `the body is ${typeName(body)}: send a JSON object, an array of them, or NDJSON`);
    }
    list.add(body, altered[0]);
    return { items: list.items, framing: 'object', count: 1 };
  }
  if (body.length > options.maxRecords) throw tooManyRecords(body.length, options.maxRecords);
  const slice = options.sliceRecords ?? DEFAULT_SLICE;
  for (let i = 0; i < body.length; i++) {
    list.add(body[i], altered[i]);
    if ((i + 1) % slice === 0) await nextTurn();
  }
  return { items: list.items, framing: 'array', count: list.count };
}
