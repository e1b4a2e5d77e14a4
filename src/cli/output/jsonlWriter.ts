// SPDX-License-Identifier: MIT
// JSON Lines: one object per classified line, `{file, line, label, score}` plus `scores`,
// `text`, `flags` and `truncated` when asked for or set, `via` and `template_id` with --template-tier,
// and `model`, the digest of the weights that classified the line.
import { escapeJsonForTerminal } from './escapeTerminal.js';
import { STDIN_NAME, type ClassifiedLine, type RecordWriter, type RecordWriterOptions } from './recordTypes.js';

export function jsonlRecord(line: ClassifiedLine, options: Pick<RecordWriterOptions, 'scores' | 'text'>): string {
  return JSON.stringify({
    file: line.file ?? STDIN_NAME,
    line: line.line,
    label: line.label,
    score: line.score,
    ...(options.scores ? { scores: line.scores } : {}),
    ...(options.text ? { text: line.text } : {}),
    ...(line.flags.length > 0 ? { flags: line.flags } : {}),
    ...(line.truncated ? { truncated: true } : {}),
    ...(line.review !== undefined ? { review: line.review } : {}),
    ...(line.alert !== undefined ? { alert: line.alert } : {}),
    ...(line.via !== undefined ? { via: line.via, template_id: line.templateId } : {}),
    ...(line.model !== undefined ? { model: line.model } : {}),
  });
}

export function jsonlWriter(options: RecordWriterOptions): RecordWriter {
  // Always escaped: a JSONL file is `cat`-ed to a terminal sooner or later, and the escapes are valid JSON.
  return { write: (lines) => lines.map((line) => `${escapeJsonForTerminal(jsonlRecord(line, options))}\n`).join('') };
}
