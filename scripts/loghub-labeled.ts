// SPDX-License-Identifier: MIT
// Labeled lines from the loghub samples (../shared/data/loghub) with each line's *source system*
// as its label, for `logtriage adapt` / `eval` runs and tests: per system, `perSystem` distinct
// non-blank lines spread evenly over the file (from the `part`-th of `parts` interleaved
// slices, so part 0 and part 1 never share a line). Lines are read with the repo's reader
// (LF, CRLF and lone CR end a line, as the files mix them).
//
//   npx tsx scripts/loghub-labeled.ts --per-system 30 [--part 0 --parts 2] > by-system.jsonl
import { createReadStream, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readLogLines } from '../src/lines/readLogLines.js';

export interface LabeledLine {
  text: string;
  label: string;
}

export const defaultLoghubDir = (): string => resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'loghub');

/** Per system (label = file name before `_2k.log`), `perSystem` distinct lines of slice `part` of `parts`. */
export async function loghubLabeled(options: { perSystem: number; part?: number; parts?: number; dir?: string }): Promise<LabeledLine[]> {
  const dir = options.dir ?? defaultLoghubDir();
  const parts = options.parts ?? 1;
  const part = options.part ?? 0;
  const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  if (files.length === 0) throw new Error(`No loghub .log files in ${dir}`);
  const out: LabeledLine[] = [];
  for (const file of files) {
    const label = basename(file).replace(/_2k\.log$/, '');
    const seen = new Set<string>();
    const lines: string[] = [];
    for await (const line of readLogLines(createReadStream(join(dir, file)))) {
      if (line.text.trim().length === 0 || seen.has(line.text)) continue;
      seen.add(line.text);
      lines.push(line.text);
    }
    const slice = lines.filter((_, i) => i % parts === part);
    if (slice.length < options.perSystem) throw new Error(`${file}: ${slice.length} distinct lines in part ${part} of ${parts}, fewer than ${options.perSystem}`);
    const stride = slice.length / options.perSystem;
    for (let i = 0; i < options.perSystem; i++) out.push({ text: slice[Math.floor(i * stride)]!, label });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { 'per-system': { type: 'string', default: '30' }, part: { type: 'string', default: '0' }, parts: { type: 'string', default: '1' } } });
  const rows = await loghubLabeled({ perSystem: Number(values['per-system']), part: Number(values.part), parts: Number(values.parts) });
  for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
}
