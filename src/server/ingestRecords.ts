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
// grows with a body of empty records. The body is read in slices (TurnBudget: a count of records
// or a few milliseconds) with the event loop served between them (a 2 MB body holds 700,000 `{}` lines). A JSON array is read element by element too
// (readJsonBody): each element's text is found by a scan of brackets and strings and parsed by
// JSON.parse alone, so each record is exactly what JSON.parse of the whole body gave (a
// `__proto__` key an own property, the last of repeated keys, lone surrogates kept, big numbers
// rounded); a body the scan doubts is parsed whole, as before, which gives the same answer.
import { readField, skipReason, type LogRecord } from '../records/readField.js';
import { recordShapeProblem } from '../records/recordShape.js';
import { HttpError } from './errors.js';
import { TurnBudget } from './TurnBudget.js';
import { piecesOf, textOf, type BodyText } from './bodyChunks.js';
import { jsonAlterations, stringEnd, type Alteration } from '../records/jsonAlterations.js';

/** An NDJSON body, not yet parsed: readIngestItems reads it line by line, in slices. */
export class NdjsonText {
  constructor(readonly body: BodyText) {}

  /** --log-bodies writes the text. */
  toJSON(): string {
    return textOf(this.body);
  }
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
  /** Records judged between two turns of the event loop, at most (a slice also ends after SLICE_MS). */
  sliceRecords?: number;
  /** True once the client has closed its connection: the reading stops at the next slice (499). */
  clientGone?: () => boolean;
}

/** The next slice of a body's reading, unless its client has gone (no one would read the answer). */
async function nextSlice(turns: TurnBudget, options: ReadOptions): Promise<void> {
  await turns.nextSlice();
  if (options.clientGone?.()) throw new HttpError('cancelled', 'the client closed the connection while its body was read');
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

/**
 * NDJSON: one JSON value per line, LF or CRLF; blank lines are skipped, a bad line is rejected
 * alone. Read a piece of the body at a time (its chunks as received): a line split between pieces
 * is joined from its parts, so a long line costs its length once.
 */
async function readNdjson(body: BodyText, list: ItemList, options: ReadOptions): Promise<void> {
  const turns = new TurnBudget(options.sliceRecords ?? DEFAULT_SLICE);
  const judge = (raw: string) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim().length === 0) return;
    // Refused before the rest is parsed: the cap bounds the work, not only the answer.
    if (list.count === options.maxRecords) throw tooManyRecords(`more than ${options.maxRecords}`, options.maxRecords);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      list.reject('not valid JSON');
      return;
    }
    list.add(value, jsonAlterations(line, false)[0]);
  };
  let parts: string[] = [];
  for (const piece of piecesOf(body)) {
    // indexOf, not split: a 2 MB body of 700,000 lines is never one array of 700,000 strings, and
    // a body over the cap is refused after cap + 1 lines, not after splitting all of it.
    for (let start = 0; ; ) {
      const nl = piece.indexOf('\n', start);
      if (nl === -1) {
        if (start < piece.length) parts.push(piece.slice(start));
        break;
      }
      let raw = piece.slice(start, nl);
      if (parts.length > 0) {
        parts.push(raw);
        raw = parts.join('');
        parts = [];
      }
      start = nl + 1;
      // Blank lines count too: a body of 2,000,000 newlines is as long a loop.
      if (turns.spent()) await nextSlice(turns, options);
      judge(raw);
    }
  }
  if (parts.length > 0) judge(parts.join(''));
}

/**
 * A JSON array body read element by element (readJsonBody), its records judged; or, for a body of
 * more records than the cap, the 413 it is answered once admitted (as when the parsed array was
 * judged after admission: a full server still answers 429 first).
 */
export class JudgedArray {
  constructor(
    private readonly body: BodyText,
    readonly items: IngestItem[],
    readonly count: number,
    readonly refusal?: HttpError,
  ) {}

  /** What --log-bodies writes: the body as parsed whole, as it was before arrays were read element by element. */
  toJSON(): JsonBody {
    return parseJsonBody(textOf(this.body));
  }
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** JSON's whitespace (what JSON.parse skips around a value; a BOM or a no-break space is not). */
function firstNonSpace(text: string, from: number): number {
  let i = from;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
  }
  return i;
}

/**
 * The index of the `,` or `]` that ends the array element starting at `from`: text.length when
 * the text ends first (the element may go on in the next piece), -1 when it cannot be JSON.
 */
function elementEnd(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = stringEnd(text, i);
    else if (c === 0x7b || c === OPEN_BRACKET) depth++;
    else if (c === 0x7d || c === CLOSE_BRACKET) {
      // A `}` closing nothing: not JSON (each element is checked by JSON.parse, the array's frame here).
      if (depth === 0) return c === CLOSE_BRACKET ? i : -1;
      depth--;
    } else if (c === 0x2c && depth === 0) return i;
  }
  return text.length;
}

/** A body's text a piece at a time: what is still to be read of the current piece, and the next one appended on demand. */
class TextWindow {
  text = '';
  private readonly rest: Iterator<string>;

  constructor(body: BodyText) {
    this.rest = piecesOf(body)[Symbol.iterator]();
  }

  /** Drops the text before `from` and appends the next piece; false (the text unchanged) at the body's end. */
  more(from: number): boolean {
    const next = this.rest.next();
    if (next.done === true) return false;
    this.text = this.text.slice(from) + next.value;
    return true;
  }

  /** Whether nothing but JSON whitespace is left from `from` to the body's end. */
  onlySpaceFrom(from: number): boolean {
    for (let at = from; ; at = 0) {
      if (firstNonSpace(this.text, at) !== this.text.length) return false;
      if (!this.more(this.text.length)) return true;
    }
  }
}

/**
 * A JSON array body, element by element: each element parsed by JSON.parse on its own and judged
 * at once (a `{}` costs nothing once its run has it), the event loop served between slices. Past
 * the cap nothing more is parsed: the rest is only scanned, to count the records the 413 names.
 * Undefined when the text is not plainly an array of values (the caller parses it whole).
 */
async function readJsonArray(body: BodyText, window: TextWindow, open: number, options: ReadOptions): Promise<JudgedArray | undefined> {
  const list = new ItemList(options);
  const turns = new TurnBudget(options.sliceRecords ?? DEFAULT_SLICE);
  let total = 0;
  for (let start = open + 1; ; ) {
    let end = elementEnd(window.text, start);
    // An element that goes on in the next piece is scanned again from its start, with that piece.
    while (end === window.text.length && window.more(start)) {
      start = 0;
      end = elementEnd(window.text, start);
      if (turns.spent()) await nextSlice(turns, options);
    }
    const text = window.text;
    if (end === -1 || end === text.length) return undefined;
    if (firstNonSpace(text, start) === end) {
      // Nothing before this `,` or `]`: only `[]` is JSON.
      const empty = total === 0 && text.charCodeAt(end) === CLOSE_BRACKET && window.onlySpaceFrom(end + 1);
      return empty ? new JudgedArray(body, list.items, 0) : undefined;
    }
    if (++total <= options.maxRecords) {
      const element = text.slice(start, end);
      let value: unknown;
      try {
        value = JSON.parse(element);
      } catch {
        return undefined;
      }
      list.add(value, jsonAlterations(element, false)[0]);
    } else if (total === options.maxRecords + 1) {
      list.items.length = 0;
    }
    if (text.charCodeAt(end) === CLOSE_BRACKET) {
      if (!window.onlySpaceFrom(end + 1)) return undefined;
      return total > options.maxRecords ? new JudgedArray(body, [], total, tooManyRecords(total, options.maxRecords)) : new JudgedArray(body, list.items, list.count);
    }
    start = end + 1;
    if (turns.spent()) await nextSlice(turns, options);
  }
}

/**
 * A JSON /ingest body: an array read element by element (JudgedArray), a piece of the body at a
 * time; anything else (one record, a scalar) parsed whole (JsonBody). A body that is not JSON is
 * refused (400) with JSON.parse's own message, as before.
 */
export async function readJsonBody(body: BodyText, options: ReadOptions): Promise<JsonBody | JudgedArray> {
  const window = new TextWindow(body);
  let open = 0;
  // Leading whitespace may fill whole pieces.
  while ((open = firstNonSpace(window.text, 0)) === window.text.length && window.more(open)) open = 0;
  const read = window.text.charCodeAt(open) === OPEN_BRACKET ? await readJsonArray(body, window, open, options) : undefined;
  return read ?? parseJsonBody(textOf(body));
}

/**
 * The records of a parsed body (NdjsonText, JudgedArray, JsonBody, or a value), each judged alone; a body that
 * is a JSON scalar has none (422), one of more than `maxRecords` records is refused (413).
 */
export async function readIngestItems(parsed: unknown, options: ReadOptions): Promise<{ items: IngestItem[]; framing: 'ndjson' | 'array' | 'object'; count: number }> {
  if (parsed instanceof JudgedArray) {
    if (parsed.refusal) throw parsed.refusal;
    return { items: parsed.items, framing: 'array', count: parsed.count };
  }
  const list = new ItemList(options);
  if (parsed instanceof NdjsonText) {
    await readNdjson(parsed.body, list, options);
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
  const turns = new TurnBudget(options.sliceRecords ?? DEFAULT_SLICE);
  for (let i = 0; i < body.length; i++) {
    list.add(body[i], altered[i]);
    if (turns.spent()) await nextSlice(turns, options);
  }
  return { items: list.items, framing: 'array', count: list.count };
}
