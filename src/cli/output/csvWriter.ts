// SPDX-License-Identifier: MIT
// RFC 4180 CSV (CRLF records, quoted fields where needed) through csv-stringify. A spreadsheet
// runs a cell as a formula when it starts with = + - @, a tab or a CR (OWASP's CSV injection
// list), also after leading blanks (some trim them), and an importer set to another separator
// (`;` in many locales, a tab when pasted) splits one cell into several: so every segment of a
// string cell, at its start and after each `;` `,` tab, CR or LF, that would start a formula gets
// an apostrophe in front (guardFormulas). Numbers are written as numbers. On a terminal the text
// cells are also escaped (escapeTerminal), since there they are printed rather than saved.
import { stringify } from 'csv-stringify/sync';
import { escapeTerminal } from './escapeTerminal.js';
import { STDIN_NAME, type RecordWriter, type RecordWriterOptions } from './recordTypes.js';

// A segment start (the cell's or after a separator), then a tab or CR, or optional blanks and = + - @.
const FORMULA_SEGMENT = /(^|[;,\t\r\n])(?=[\t\r]|[ \u00a0\t]*[=+\-@])/g;

/** `cell` with an apostrophe before every segment a spreadsheet would run as a formula. */
export function guardFormulas(cell: string): string {
  return cell.replace(FORMULA_SEGMENT, "$1'");
}

export function csvWriter(options: RecordWriterOptions): RecordWriter {
  const header = [
    'file',
    'line',
    'label',
    'score',
    ...(options.scores ? options.labels.map((label) => `score_${label}`) : []),
    ...(options.text ? ['text'] : []),
    'flags',
    'truncated',
    ...(options.review ? ['review'] : []),
    ...(options.alerts ? ['alert'] : []),
    ...(options.templateTier ? ['via', 'template_id'] : []),
  ];
  const cell = options.terminal ? (s: string) => guardFormulas(escapeTerminal(s)) : guardFormulas;
  let headerWritten = false;
  return {
    write(lines) {
      const rows: Array<Array<string | number>> = headerWritten ? [] : [header.map(guardFormulas)];
      headerWritten = true;
      for (const line of lines) {
        rows.push([
          cell(line.file ?? STDIN_NAME),
          line.line,
          cell(line.label),
          line.score,
          ...(options.scores ? options.labels.map((label) => line.scores[label] ?? 0) : []),
          ...(options.text ? [cell(line.text)] : []),
          cell(line.flags.join(';')),
          line.truncated ? 'true' : 'false',
          ...(options.review ? [line.review ? 'true' : 'false'] : []),
          ...(options.alerts ? [line.alert ? 'true' : 'false'] : []),
          ...(options.templateTier ? [line.via ?? '', cell(line.templateId ?? '')] : []),
        ]);
      }
      return rows.length === 0 ? '' : stringify(rows, { record_delimiter: 'windows', quote_record_delimiter: true, escape_formulas: false });
    },
  };
}
