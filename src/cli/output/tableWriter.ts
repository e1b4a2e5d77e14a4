// SPDX-License-Identifier: MIT
// A plain-text table for people: location, label (coloured on a terminal), score, optionally
// every label's score, REVIEW and ALERT (when review thresholds / --thresholds are set), VIA and
// TEMPLATE (with --template-tier: 'model' or 'template', and the template id), then the line itself. The table is meant to be read on a terminal, so
// text and file names are always escaped (escapeTerminal): a hostile line is shown, never obeyed.
// Rows stream out chunk by chunk, so column widths come from the header and the first chunk.
import { escapeTerminal } from './escapeTerminal.js';
import { dimmer, labelPainter } from './labelStyle.js';
import type { ClassifiedLine, RecordWriter, RecordWriterOptions } from './recordTypes.js';

const GAP = '  ';
const SCORE_WIDTH = 5; // 0.973
const yesNo = (flag: boolean | undefined) => (flag ? 'yes' : 'no');

export function tableWriter(options: RecordWriterOptions): RecordWriter {
  const paint = labelPainter(options.color);
  const dim = dimmer(options.color);
  const labelWidth = Math.max('LABEL'.length, ...options.labels.map((l) => escapeTerminal(l).length));
  const scoreWidths = options.scores ? options.labels.map((l) => Math.max(escapeTerminal(l).length, SCORE_WIDTH)) : [];
  const location = (line: ClassifiedLine): string =>
    options.manyInputs ? `${escapeTerminal(line.file ?? '<stdin>')}:${line.line}` : String(line.line);
  let locationWidth: number | undefined;
  const markHeaders = [...(options.review ? ['REVIEW'] : []), ...(options.alerts ? ['ALERT'] : []), ...(options.templateTier ? ['VIA', 'TEMPLATE'] : [])];
  // 'template' is the longest value of VIA; ids are 8 hex digits, '-n' added on a collision.
  const markWidths = markHeaders.map((h) => (h === 'VIA' ? 'template'.length : h === 'TEMPLATE' ? 10 : h.length));

  const row = (cells: { location: string; label: string; score: string; scores: string[]; marks: string[]; text: string }, labelName?: string): string => {
    const labelCell = cells.label.padEnd(labelWidth);
    return [
      cells.location.padEnd(locationWidth ?? 0),
      labelName === undefined ? labelCell : paint(labelName, labelCell),
      cells.score.padStart(SCORE_WIDTH),
      ...cells.scores.map((s, i) => s.padStart(scoreWidths[i]!)),
      ...cells.marks.map((m, i) => m.padEnd(markWidths[i]!)),
      cells.text,
    ].join(GAP);
  };

  return {
    write(lines) {
      let out = '';
      if (locationWidth === undefined) {
        locationWidth = Math.max(options.manyInputs ? 'FILE:LINE'.length : 'LINE'.length, ...lines.map((l) => location(l).length));
        const header = row({
          location: options.manyInputs ? 'FILE:LINE' : 'LINE',
          label: 'LABEL',
          score: 'SCORE',
          scores: options.scores ? options.labels.map((l) => escapeTerminal(l)) : [],
          marks: markHeaders,
          text: 'TEXT',
        });
        out += `${dim(header.trimEnd())}\n`;
      }
      for (const line of lines) {
        const marks = [...line.flags, ...(line.truncated ? ['truncated'] : [])];
        const text = escapeTerminal(line.text) + (marks.length > 0 ? ` ${dim(`[${marks.join(', ')}]`)}` : '');
        out += `${row(
          {
            location: location(line),
            label: escapeTerminal(line.label),
            score: line.score.toFixed(3),
            scores: options.scores ? options.labels.map((l) => (line.scores[l] ?? 0).toFixed(3)) : [],
            marks: [
              ...(options.review ? [yesNo(line.review)] : []),
              ...(options.alerts ? [yesNo(line.alert)] : []),
              ...(options.templateTier ? [line.via ?? '', escapeTerminal(line.templateId ?? '')] : []),
            ],
            text,
          },
          line.label,
        )}\n`;
      }
      return out;
    },
  };
}
