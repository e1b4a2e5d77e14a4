// SPDX-License-Identifier: MIT
// Elastic Common Schema documents, one JSON object per line (for Filebeat/Elastic Agent's
// NDJSON input or the _bulk API). The mapping itself is src/records/ecs.ts, documented in docs/ecs.md.
import { ecsDocument } from '../../records/ecs.js';
import { escapeJsonForTerminal } from './escapeTerminal.js';
import type { RecordWriter, RecordWriterOptions } from './recordTypes.js';

export function ecsWriter(options: RecordWriterOptions): RecordWriter {
  return {
    write: (lines) =>
      lines
        .map((line) => {
          const source = { file: line.file, line: line.line, readAt: line.readAt, ...(options.text ? { text: line.text } : {}) };
          return `${escapeJsonForTerminal(JSON.stringify(ecsDocument(line, options.labels, source, { scores: options.scores })))}\n`;
        })
        .join(''),
  };
}
