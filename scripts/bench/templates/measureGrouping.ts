// SPDX-License-Identifier: MIT
// The figures of docs/templates.md: grouping accuracy (the LogPAI benchmark's metric) of logtriage's
// TemplateParser on the raw lines of every shared Loghub sample, beside plain Drain run the same way
// on the same raw lines (plainDrain.ts) and Drain's published figures; then lines/s of the parser
// on one core (JavaScript runs on one thread; pin it with taskset to keep other cores out of it).
//
//   taskset -c 0 npx tsx scripts/bench/templates/measureGrouping.ts [--rounds 5] [--json]
import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TemplateParser } from '../../../src/templates/TemplateParser.js';
import { DRAIN_PUBLISHED, DRAIN_PUBLISHED_AVERAGE_16, groupingAccuracy, loghubSystems, readLabeledSample, type LabeledSample } from './groundTruth.js';
import { PlainDrain } from './plainDrain.js';

export interface SystemRow {
  system: string;
  lines: number;
  trueTemplates: number;
  ours: number;
  oursTemplates: number;
  plainDrain: number;
  plainDrainTemplates: number;
  drainPublished: number | undefined;
}

export function parseWithOurs(sample: LabeledSample): { ids: string[]; templates: number } {
  const parser = new TemplateParser();
  const ids = sample.lines.map((line) => parser.add(line).id);
  return { ids, templates: parser.size };
}

export function parseWithPlainDrain(sample: LabeledSample): { keys: string[]; templates: number } {
  const drain = new PlainDrain();
  sample.lines.forEach((line, i) => drain.add(i, line));
  const byLine = drain.templatesByLine();
  const keys = sample.lines.map((_, i) => byLine.get(i)!);
  return { keys, templates: new Set(keys).size };
}

export async function measureSystems(dir: string): Promise<SystemRow[]> {
  const rows: SystemRow[] = [];
  for (const system of loghubSystems(dir)) {
    const sample = await readLabeledSample(dir, system);
    const ours = parseWithOurs(sample);
    const plain = parseWithPlainDrain(sample);
    rows.push({
      system,
      lines: sample.lines.length,
      trueTemplates: new Set(sample.truth).size,
      ours: groupingAccuracy(sample.truth, ours.ids),
      oursTemplates: ours.templates,
      plainDrain: groupingAccuracy(sample.truth, plain.keys),
      plainDrainTemplates: plain.templates,
      drainPublished: DRAIN_PUBLISHED[system],
    });
  }
  return rows;
}

/** Lines per second of `parse` over all samples' lines, each round a fresh parser; the median round. */
function linesPerSecond(lines: readonly string[], rounds: number, parse: (lines: readonly string[]) => void): number {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = process.hrtime.bigint();
    parse(lines);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rates.push(lines.length / seconds);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f3 = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(3));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, json: { type: 'boolean', default: false }, dir: { type: 'string' } } });
  const dir = values.dir ?? resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data', 'loghub');
  const rows = await measureSystems(dir);
  const all: string[] = [];
  for (const system of loghubSystems(dir)) all.push(...(await readLabeledSample(dir, system)).lines);
  // Five copies: 100,000 lines, so the parser meets each template many times, as on a real log.
  const stream = Array.from({ length: 5 }, () => all).flat();
  const rounds = Number(values.rounds);
  const ours = linesPerSecond(stream, rounds, (lines) => {
    const parser = new TemplateParser();
    for (const line of lines) parser.add(line);
  });
  const plain = linesPerSecond(stream, rounds, (lines) => {
    const drain = new PlainDrain();
    lines.forEach((line, i) => drain.add(i, line));
  });
  const published = rows.map((r) => r.drainPublished).filter((x): x is number => x !== undefined);
  const summary = {
    systems: rows.length,
    ours: mean(rows.map((r) => r.ours)),
    plainDrain: mean(rows.map((r) => r.plainDrain)),
    drainPublishedHere: mean(published),
    drainPublished16: DRAIN_PUBLISHED_AVERAGE_16,
    linesPerSecond: { ours: Math.round(ours), plainDrain: Math.round(plain), lines: stream.length, rounds },
    machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} CPUs available, Node ${process.version}`,
    date: new Date().toISOString(),
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ rows, summary }, null, 2)}\n`);
    return;
  }
  const out: string[] = [
    '| system | lines | true templates | **logtriage** | its templates | plain Drain (same raw lines) | its templates | Drain published |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.system} | ${r.lines} | ${r.trueTemplates} | **${f3(r.ours)}** | ${r.oursTemplates} | ${f3(r.plainDrain)} | ${r.plainDrainTemplates} | ${f3(r.drainPublished)} |`),
    `| **average of ${rows.length}** | | | **${f3(summary.ours)}** | | ${f3(summary.plainDrain)} | | ${f3(summary.drainPublishedHere)} (${f3(summary.drainPublished16)} over its 16) |`,
    '',
    `lines/s on one core (${stream.length.toLocaleString('en')} lines: the ${rows.length} samples five times, median of ${rounds} rounds, a fresh parser each): ` +
      `logtriage ${summary.linesPerSecond.ours.toLocaleString('en')}, plain Drain ${summary.linesPerSecond.plainDrain.toLocaleString('en')}`,
    `${summary.machine}; ${summary.date}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
