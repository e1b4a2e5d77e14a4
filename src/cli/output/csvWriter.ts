// SPDX-License-Identifier: MIT
// RFC 4180 CSV (CRLF records, quoted fields where needed) through csv-stringify. Cells that a
// spreadsheet would run as a formula (leading = + - @, tab or CR: OWASP's CSV injection list)
// get a leading apostrophe; numbers are written as numbers. On a terminal the text cells are
// also escaped (escapeTerminal), since there they are printed rather than saved.
import { stringify } from 'csv-stringify/sync';
import { escapeTerminal } from './escapeTerminal.js';
import { STDIN_NAME, type RecordWriter, type RecordWriterOptions } from './recordTypes.js';

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
  ];
  const cell = options.terminal ? escapeTerminal : (s: string) => s;
  let headerWritten = false;
  return {
    write(lines) {
      const rows: Array<Array<string | number>> = headerWritten ? [] : [header];
      headerWritten = true;
      for (const line of lines) {
        rows.push([
          cell(line.file ?? STDIN_NAME),
          line.line,
          cell(line.label),
          line.score,
          ...(options.scores ? options.labels.map((label) => line.scores[label] ?? 0) : []),
          ...(options.text ? [cell(line.text)] : []),
          line.flags.join(';'),
          line.truncated ? 'true' : 'false',
          ...(options.review ? [line.review ? 'true' : 'false'] : []),
          ...(options.alerts ? [line.alert ? 'true' : 'false'] : []),
        ]);
      }
      return rows.length === 0 ? '' : stringify(rows, { record_delimiter: 'windows', quote_record_delimiter: true, escape_formulas: true });
    },
  };
}
