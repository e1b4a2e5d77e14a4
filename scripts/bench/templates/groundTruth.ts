// SPDX-License-Identifier: MIT
// Loghub's ground truth for the shared samples (../shared/data/loghub/<System>_2k.log and its
// _structured.csv) and the LogPAI benchmark's grouping accuracy. The raw lines are read with the
// library's own line reader (LF, CRLF and lone CR), and their count must equal the CSV's rows.
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { readLogLines } from '../../../src/lines/readLogLines.js';

/** Drain's grouping accuracy in "Tools and Benchmarks for Automated Log Parsing" (Zhu et al., ICSE-SEIP 2019), Table 3. */
export const DRAIN_PUBLISHED: Readonly<Record<string, number>> = {
  HDFS: 0.998,
  Hadoop: 0.948,
  Spark: 0.92,
  Zookeeper: 0.967,
  OpenStack: 0.733,
  BGL: 0.963,
  HPC: 0.887,
  Thunderbird: 0.955,
  Windows: 0.997,
  Linux: 0.69,
  Mac: 0.787,
  Android: 0.911,
  HealthApp: 0.78,
  Apache: 1.0,
  OpenSSH: 0.788,
  Proxifier: 0.527,
};

/** Drain's published average over its 16 systems. */
export const DRAIN_PUBLISHED_AVERAGE_16 = 0.865;

export interface LabeledSample {
  system: string;
  /** The raw lines, in order. */
  lines: string[];
  /** Each line's true template (Loghub's EventTemplate). */
  truth: string[];
}

/** The systems present in `dir` (those with both the .log and its _structured.csv), sorted. */
export function loghubSystems(dir: string): string[] {
  if (!existsSync(dir)) throw new Error(`Loghub samples missing: ${dir} (the shared folder beside the repo, see ../shared/README.md)`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('_2k.log') && existsSync(join(dir, `${f}_structured.csv`)))
    .map((f) => f.slice(0, -'_2k.log'.length))
    .sort();
}

/** One system's raw lines and their true templates; throws when the line count differs from the CSV's rows. */
export async function readLabeledSample(dir: string, system: string): Promise<LabeledSample> {
  const lines: string[] = [];
  for await (const line of readLogLines(createReadStream(join(dir, `${system}_2k.log`)))) lines.push(line.text);
  const rows = parse(readFileSync(join(dir, `${system}_2k.log_structured.csv`)), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  if (rows.length !== lines.length) throw new Error(`${system}: ${lines.length} lines in the .log but ${rows.length} rows in its _structured.csv`);
  rows.forEach((row, i) => {
    if (Number(row['LineId']) !== i + 1) throw new Error(`${system}: row ${i + 1} has LineId ${row['LineId']}`);
  });
  return { system, lines, truth: rows.map((r) => r['EventTemplate']!) };
}

/**
 * The LogPAI benchmark's grouping accuracy: the share of lines whose parsed group (the lines with
 * the same parsed key) is exactly the set of lines with their true template.
 */
export function groupingAccuracy(truth: readonly string[], parsed: readonly string[]): number {
  if (truth.length !== parsed.length) throw new Error(`${truth.length} true templates but ${parsed.length} parsed`);
  const truthCount = new Map<string, number>();
  for (const t of truth) truthCount.set(t, (truthCount.get(t) ?? 0) + 1);
  const groups = new Map<string, { truth: string | undefined; size: number; mixed: boolean }>();
  truth.forEach((t, i) => {
    const g = groups.get(parsed[i]!);
    if (g === undefined) groups.set(parsed[i]!, { truth: t, size: 1, mixed: false });
    else {
      g.size++;
      if (g.truth !== t) g.mixed = true;
    }
  });
  let correct = 0;
  for (const g of groups.values()) if (!g.mixed && truthCount.get(g.truth!) === g.size) correct += g.size;
  return truth.length === 0 ? 1 : correct / truth.length;
}
