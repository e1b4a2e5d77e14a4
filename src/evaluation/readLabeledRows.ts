// SPDX-License-Identifier: MIT
// Reads a labeled evaluation set: JSON Lines (one object per line) or CSV with a header row,
// each row holding a log line and its gold label under configurable field names, and the
// `"mode"` that `logtriage label` records (which order chose the row). Every problem is a
// ValidationError that names the file and the row.
import { parse as parseCsv, type CsvError } from 'csv-parse';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { ValidationError } from '../errors.js';
import { DEFAULT_MAX_LINE_BYTES, readLogLines } from '../lines/readLogLines.js';

export const LABELED_FORMATS = ['jsonl', 'csv'] as const;
export type LabeledFormat = (typeof LABELED_FORMATS)[number];

export interface LabeledRow {
  /** Where the row is, for messages and the report: "line 7" (JSONL) or "record 3" (CSV, header not counted). */
  where: string;
  text: string;
  label: string;
  /**
   * The row's `mode` field or column when it is a non-empty string: `logtriage label` writes the
   * order that offered the line ('random' or 'uncertain'); eval reports 'random' rows apart.
   */
  mode?: string;
}

export interface ReadLabeledRowsOptions {
  /** Default: from the extension (.jsonl/.ndjson → jsonl, .csv → csv). */
  format?: LabeledFormat;
  textField: string;
  labelField: string;
  /** Longest JSON line or CSV record (bytes); a longer one is refused. Default DEFAULT_MAX_LINE_BYTES. */
  maxLineBytes?: number;
}

const EXTENSION_FORMATS: Record<string, LabeledFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv' };

export function formatFromPath(path: string): LabeledFormat {
  const format = EXTENSION_FORMATS[extname(path).toLowerCase()];
  if (!format) {
    throw new ValidationError(`Cannot tell the format of ${path} from its extension: name it .jsonl, .ndjson or .csv, or pass --format jsonl|csv`);
  }
  return format;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function rowFrom(record: Record<string, unknown>, where: string, file: string, options: ReadLabeledRowsOptions): LabeledRow {
  const take = (field: string, what: string): string => {
    if (!Object.hasOwn(record, field)) {
      const present = Object.keys(record).map((k) => JSON.stringify(k)).join(', ') || 'none';
      throw new ValidationError(`${file}, ${where}: no ${what} field ${JSON.stringify(field)} (fields present: ${present})`);
    }
    const value = record[field];
    if (typeof value !== 'string') {
      throw new ValidationError(`${file}, ${where}: expected a string for ${what} field ${JSON.stringify(field)} but received ${describeType(value)}`);
    }
    return value;
  };
  const text = take(options.textField, 'text');
  const label = take(options.labelField, 'label');
  if (/^\s*$/u.test(text)) throw new ValidationError(`${file}, ${where}: the text is empty or whitespace only`);
  // Another use of a field named "mode" (a number, an object) is not ours: read as no mode.
  const mode = record.mode;
  return typeof mode === 'string' && mode.length > 0 ? { where, text, label, mode } : { where, text, label };
}

async function readJsonLines(file: string, options: ReadLabeledRowsOptions): Promise<LabeledRow[]> {
  const rows: LabeledRow[] = [];
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  for await (const line of readLogLines(createReadStream(file), { maxLineBytes })) {
    const source = line.lineNumber === 1 ? line.text.replace(/^\uFEFF/u, '') : line.text;
    if (/^\s*$/u.test(source)) continue;
    const where = `line ${line.lineNumber}`;
    // A cut JSON object cannot be read; the row is refused (a labeled set is checked whole).
    if (line.truncated) throw new ValidationError(`${file}, ${where}: longer than ${maxLineBytes} bytes (--max-line-bytes)`);
    let record: unknown;
    try {
      record = JSON.parse(source);
    } catch (err) {
      throw new ValidationError(`${file}, ${where}: not valid JSON (${(err as Error).message})`, { cause: err });
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new ValidationError(`${file}, ${where}: expected a JSON object but received ${describeType(record)}`);
    }
    rows.push(rowFrom(record as Record<string, unknown>, where, file, options));
  }
  return rows;
}

async function readCsv(file: string, options: ReadLabeledRowsOptions): Promise<LabeledRow[]> {
  const checkHeader = (header: string[]): string[] => {
    for (const field of [options.textField, options.labelField]) {
      if (!header.includes(field)) {
        const present = header.map((h) => JSON.stringify(h)).join(', ');
        throw new ValidationError(`${file}: the header has no column ${JSON.stringify(field)} (columns: ${present})`);
      }
    }
    return header;
  };
  const parser = createReadStream(file).pipe(
    parseCsv({
      columns: checkHeader,
      bom: true,
      skip_empty_lines: true,
      // csv-parse counts characters; a record over the cap fails with CSV_MAX_RECORD_SIZE.
      max_record_size: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      // Files written on Windows or by old Mac tools end records with CRLF or a lone CR.
      record_delimiter: ['\r\n', '\n', '\r'],
    }),
  );
  const rows: LabeledRow[] = [];
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      rows.push(rowFrom(record, `record ${rows.length + 1}`, file, options));
    }
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    if ((err as CsvError).code === 'CSV_MAX_RECORD_SIZE') {
      // The parser reads ahead of the rows taken here: its own line count names the place.
      const line = (err as CsvError & { lines?: number }).lines;
      throw new ValidationError(`${file}, line ${line}: a record longer than ${options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES} bytes (--max-line-bytes)`, { cause: err });
    }
    if ((err as CsvError).code?.startsWith('CSV_')) throw new ValidationError(`${file}: ${(err as CsvError).message}`, { cause: err });
    throw err;
  }
  return rows;
}

/** Every row of the file, in file order; at least one. */
export async function readLabeledRows(file: string, options: ReadLabeledRowsOptions): Promise<LabeledRow[]> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new ValidationError(`Labeled file not found: ${file}`);
  const format = options.format ?? formatFromPath(file);
  const rows = format === 'csv' ? await readCsv(file, options) : await readJsonLines(file, options);
  if (rows.length === 0) throw new ValidationError(`${file} has no labeled rows`);
  return rows;
}
