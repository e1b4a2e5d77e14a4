// SPDX-License-Identifier: MIT
// `logtriage classify [files… | -] --model model.gguf`: streams lines, classifies them in
// batches through the library and writes one JSON record per non-blank line, in input order.
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LogClassifier } from '../../classifier.js';
import type { OpenOptions } from '../../options.js';
import { readLogLines, type LogLine } from '../readLogLines.js';

export interface ClassifyCommandOptions {
  model: string;
  scores?: boolean;
  text?: boolean;
  /** Lines handed to the library per call. */
  chunkLines: number;
  open: OpenOptions;
}

export interface ClassifySummary {
  lines: number;
  blank: number;
  perLabel: Record<string, number>;
}

function openInput(file: string): Readable {
  if (file === '-') return process.stdin;
  const stream = createReadStream(file);
  return file.endsWith('.gz') ? stream.pipe(createGunzip()) : stream;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export async function classifyCommand(files: string[], options: ClassifyCommandOptions, out: Writable = process.stdout): Promise<ClassifySummary> {
  const inputs = files.length > 0 ? files : ['-'];
  const clf = await LogClassifier.open(options.model, options.open);
  const summary: ClassifySummary = { lines: 0, blank: 0, perLabel: Object.fromEntries(clf.labels.map((l) => [l, 0])) };
  try {
    for (const file of inputs) {
      let chunk: LogLine[] = [];
      const flush = async () => {
        if (chunk.length === 0) return;
        const results = await clf.classifyMany(chunk.map((l) => l.text));
        let text = '';
        results.forEach((r, i) => {
          const line = chunk[i]!;
          summary.perLabel[r.label] = (summary.perLabel[r.label] ?? 0) + 1;
          const flags = line.invalidUtf8 ? ['invalid-utf8', ...r.flags] : r.flags;
          text += `${JSON.stringify({
            file: file === '-' ? '<stdin>' : file,
            line: line.lineNumber,
            label: r.label,
            score: r.score,
            ...(options.scores ? { scores: r.scores } : {}),
            ...(options.text ? { text: line.text } : {}),
            ...(flags.length > 0 ? { flags } : {}),
            ...(r.truncated ? { truncated: true } : {}),
          })}\n`;
        });
        summary.lines += results.length;
        chunk = [];
        await write(out, text);
      };
      for await (const line of readLogLines(openInput(file))) {
        if (/^\s*$/u.test(line.text)) {
          summary.blank++;
          continue;
        }
        chunk.push(line);
        if (chunk.length >= options.chunkLines) await flush();
      }
      await flush();
    }
  } finally {
    await clf.dispose();
  }
  return summary;
}
