// SPDX-License-Identifier: MIT
// `logtriage templates [files… | -]`: each non-blank line's template (TemplateParser, no model
// loaded), in input order on stdout — JSON Lines `{"line", "template_id", "template"}` (plus
// `"file"` with several inputs) or a table — then the templates by count: after the rows in the
// table, on stderr as a table with JSON Lines (stdout carries data only). `--summary` prints only
// the templates by count, on stdout. Files may be .gz; none or '-' reads stdin.
import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ValidationError } from '../../errors.js';
import { readLogLines } from '../../lines/readLogLines.js';
import type { TemplateParserOptions } from '../../options.js';
import { TemplateParser, type TemplateSummary } from '../../templates/TemplateParser.js';
import { escapeTerminal } from '../output/escapeTerminal.js';

export const TEMPLATE_FORMATS = ['jsonl', 'table'] as const;
export type TemplateFormat = (typeof TEMPLATE_FORMATS)[number];

export interface TemplatesCommandOptions {
  /** Default: table when stdout is a terminal, else jsonl. */
  format?: TemplateFormat;
  /** Only the templates by count, on stdout. */
  summary: boolean;
  /** Most templates listed by count (all when undefined). */
  top?: number;
  /** No summary on stderr. */
  quiet: boolean;
  parser: TemplateParserOptions;
}

export interface TemplatesIo {
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
}

export interface TemplatesResult {
  lines: number;
  blank: number;
  templates: number;
  evicted: number;
}

const defaultIo: TemplatesIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

/** Lines buffered before one write to stdout. */
const WRITE_LINES = 512;

function summaryTable(templates: readonly TemplateSummary[], lines: number, top: number | undefined): string {
  const shown = top === undefined ? templates : templates.slice(0, top);
  const countWidth = Math.max('COUNT'.length, ...shown.map((t) => String(t.count).length));
  const rows = [`${'COUNT'.padStart(countWidth)}  SHARE   TEMPLATE_ID  TEMPLATE`];
  for (const t of shown) {
    const share = `${((100 * t.count) / Math.max(lines, 1)).toFixed(1)}%`;
    rows.push(`${String(t.count).padStart(countWidth)}  ${share.padStart(6)}  ${t.id.padEnd(11)}  ${escapeTerminal(t.template)}`);
  }
  if (shown.length < templates.length) rows.push(`(${templates.length - shown.length} more templates)`);
  return `${rows.join('\n')}\n`;
}

export async function templatesCommand(files: string[], options: TemplatesCommandOptions, io: TemplatesIo = defaultIo): Promise<TemplatesResult> {
  const inputs = files.length > 0 ? files : ['-'];
  if (inputs.filter((f) => f === '-').length > 1) throw new ValidationError("stdin ('-') can be read only once");
  for (const file of inputs) if (file !== '-') await access(file, constants.R_OK);
  const parser = new TemplateParser(options.parser);
  const format = options.format ?? (io.stdout.isTTY === true ? 'table' : 'jsonl');
  const manyInputs = inputs.length > 1;
  const result: TemplatesResult = { lines: 0, blank: 0, templates: 0, evicted: 0 };

  // A closed stdout (`| head`) ends the run quietly; other write errors fail it.
  let outputError: NodeJS.ErrnoException | undefined;
  const onOutputError = (err: NodeJS.ErrnoException) => {
    outputError = err;
  };
  io.stdout.on('error', onOutputError);
  let pending: string[] = [];
  const flush = async () => {
    if (pending.length === 0 || outputError !== undefined) return;
    const text = pending.join('');
    pending = [];
    if (!io.stdout.write(text)) await Promise.race([once(io.stdout, 'drain'), once(io.stdout, 'error')]);
  };

  let tableHeader = !options.summary && format === 'table';
  try {
    for (const input of inputs) {
      if (outputError !== undefined) break;
      const file = input === '-' ? undefined : input;
      const stream = file === undefined ? io.stdin : file.endsWith('.gz') ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
      try {
        for await (const line of readLogLines(stream)) {
          if (/^\s*$/u.test(line.text)) {
            result.blank++;
            continue;
          }
          result.lines++;
          const match = parser.add(line.text);
          if (options.summary) continue;
          if (format === 'jsonl') {
            pending.push(`${JSON.stringify({ ...(manyInputs ? { file: file ?? '-' } : {}), line: line.lineNumber, template_id: match.id, template: match.template })}\n`);
          } else {
            if (tableHeader) {
              pending.push(`${manyInputs ? 'FILE:LINE' : 'LINE'}  TEMPLATE_ID  TEMPLATE\n`);
              tableHeader = false;
            }
            const where = manyInputs ? `${escapeTerminal(file ?? '-')}:${line.lineNumber}` : String(line.lineNumber);
            pending.push(`${where}  ${match.id.padEnd(11)}  ${escapeTerminal(match.template)}\n`);
          }
          if (pending.length >= WRITE_LINES) await flush();
          if (outputError !== undefined) break;
        }
      } finally {
        if (file !== undefined) stream.destroy();
      }
    }
    await flush();
    const templates = parser.templates();
    result.templates = templates.length;
    result.evicted = parser.evicted;
    if (options.summary) {
      pending.push(format === 'jsonl' ? templates.slice(0, options.top).map((t) => `${JSON.stringify({ template_id: t.id, count: t.count, template: t.template })}\n`).join('') : summaryTable(templates, result.lines, options.top));
      await flush();
    } else if (format === 'table') {
      pending.push(`\n${summaryTable(templates, result.lines, options.top)}`);
      await flush();
    } else if (!options.quiet) {
      io.stderr.write(summaryTable(templates, result.lines, options.top));
    }
    if (!options.quiet) {
      const evicted = result.evicted > 0 ? `, ${result.evicted} evicted (raise --max-templates)` : '';
      io.stderr.write(`logtriage: ${result.lines} lines, ${result.templates} templates${evicted}${result.blank > 0 ? `, ${result.blank} blank lines skipped` : ''}\n`);
    }
    if (outputError !== undefined && outputError.code !== 'EPIPE') throw outputError;
  } finally {
    io.stdout.off('error', onOutputError);
  }
  return result;
}
