// SPDX-License-Identifier: MIT
// The writer for each --format. A writer turns a chunk of classified lines into text for stdout;
// it keeps whatever state its format needs (CSV header, table column widths) across chunks.
import { csvWriter } from './csvWriter.js';
import { ecsWriter } from './ecsWriter.js';
import { jsonlWriter } from './jsonlWriter.js';
import { tableWriter } from './tableWriter.js';
import type { OutputFormat, RecordWriter, RecordWriterOptions } from './recordTypes.js';

export function createRecordWriter(format: OutputFormat, options: RecordWriterOptions): RecordWriter {
  switch (format) {
    case 'jsonl':
      return jsonlWriter(options);
    case 'csv':
      return csvWriter(options);
    case 'table':
      return tableWriter(options);
    case 'ecs':
      return ecsWriter(options);
  }
}
