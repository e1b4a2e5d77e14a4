// SPDX-License-Identifier: MIT
// The streaming scenario (issue 17): lines arrive one or a few at a time, as with `classify
// --follow`, a server answering one line per request, or a worker fetching small batches. The
// input is time-ordered runs of one system's consecutive lines, system after system; logtriage
// classifies it one call per line and in calls of 4 lines, with the cross-call prefix cache on
// and off, beside node-llama-cpp (one getEmbeddingFor per line) and llama-embedding (the whole
// file in one process) on the same lines. Each contender runs in its own process, interleaved.
//
//   npm run bench -- --scenario streaming --models q8_0 [--lines 200] [--run 40] [--threads 2]
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LogClassifier } from '../../src/index.js';
import { llamaToolsDir, runLlamaEmbedding } from './llamaTools.js';
import { combineRounds, percentile, type ContenderResult } from './results.js';

export interface StreamingDeps {
  threads: number;
  seed: number;
  rounds: number;
  outDir: string;
  workDir: string;
  command: string;
  machine: () => Promise<string>;
  log: (msg: string) => void;
  prepareModel: (name: string) => Promise<string>;
  runChild: (script: string, payload: object) => Promise<ContenderResult>;
  /** Token counts per line (the tiny model's tokenizer is the same Qwen2 tokenizer). */
  countTokens: (lines: string[]) => Promise<number[]>;
  /** The parity model: reuse depends on tokens only, so the budget sweep runs on it. */
  tinyModel: string;
}

export const BUDGET_SWEEP = [128, 256, 512, 1024, 1536] as const;
const SWEEP_LINES = 100;

/**
 * Share of tokens the prefix cache serves, per loghub system and cell budget: `perSystem`
 * consecutive lines of each system, one call per line, on a fresh classifier per budget.
 */
export async function reuseByBudget(tinyModel: string, files: readonly string[], perSystem: number, threads: number): Promise<Record<string, Record<number, number>>> {
  const out: Record<string, Record<number, number>> = {};
  for (const cells of BUDGET_SWEEP) {
    const clf = await LogClassifier.open(tinyModel, { threads, gpu: 'cpu', resultCache: 0, prefixCache: { cells } });
    try {
      for (const file of files) {
        const lines = readFileSync(file, 'utf8').split(/\r\n|\r|\n/).filter((l) => l.trim().length > 0).slice(0, perSystem);
        const before = clf.stats();
        for (const line of lines) await clf.classify(line);
        const after = clf.stats();
        (out[basename(file, '.log')] ??= {})[cells] = (after.tokensReused - before.tokensReused) / (after.tokensIn - before.tokensIn);
      }
    } finally {
      await clf.dispose();
    }
  }
  return out;
}

interface StreamingRow extends ContenderResult {
  name: string;
  linesPerS: number;
}

/** `nLines` lines: runs of `runLength` consecutive lines of one loghub file, file after file, each run from a seeded start. */
export function streamingLines(files: readonly string[], nLines: number, runLength: number, random: () => number): { lines: string[]; systems: string[] } {
  const lines: string[] = [];
  const systems: string[] = [];
  for (let i = 0; lines.length < nLines; i++) {
    const file = files[i % files.length]!;
    const all = readFileSync(file, 'utf8').split(/\r\n|\r|\n/).filter((l) => l.trim().length > 0);
    const start = Math.floor(random() * (all.length - runLength));
    lines.push(...all.slice(start, start + runLength));
    systems.push(basename(file, '.log'));
  }
  return { lines: lines.slice(0, nLines), systems };
}

interface Contender {
  name: string;
  run: (linesFile: string, lines: string[], tokens: number) => Promise<ContenderResult>;
}

function contenders(model: string, deps: StreamingDeps): Contender[] {
  const ours = (name: string, mode: 'sequential' | 'chunks', batchSize: number, options: object): Contender => ({
    name,
    run: (linesFile) =>
      deps.runChild('contenderLogtriage.ts', { model, linesFile, mode, batchSize, batchTokens: 512, callers: 1, prefixSharing: true, threads: deps.threads, options }),
  });
  const list: Contender[] = [
    ours('logtriage 1 line per call, prefix cache', 'sequential', 1, {}),
    ours('logtriage 1 line per call, no prefix cache', 'sequential', 1, { prefixCache: false }),
    ours('logtriage 4 lines per call, prefix cache', 'chunks', 4, {}),
    ours('logtriage 4 lines per call, no prefix cache', 'chunks', 4, { prefixCache: false }),
    { name: 'node-llama-cpp getEmbeddingFor, 1 line per call', run: (linesFile) => deps.runChild('contenderNodeLlamaCpp.ts', { model, linesFile, threads: deps.threads }) },
  ];
  const tools = llamaToolsDir();
  if (tools) {
    list.push({
      name: 'llama-embedding -c 2048 (whole file, one process)',
      run: (_, lines, tokens) => runLlamaEmbedding(tools, model, lines, { threads: deps.threads, ctx: 2048, workDir: deps.workDir, tokens }),
    });
  }
  return list;
}

const fmt = (v: number | undefined, digits = 2): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

export async function runStreaming(modelNames: readonly string[], nLines: number, runLength: number, files: readonly string[], random: () => number, deps: StreamingDeps): Promise<string> {
  const { lines, systems } = streamingLines(files, nLines, runLength, random);
  const counts = await deps.countTokens(lines);
  const tokens = counts.reduce((a, b) => a + b, 0);
  deps.log(`streaming: ${lines.length} lines from ${systems.join(', ')}, ${tokens} tokens`);
  const out: string[] = [];
  out.push(`Measured ${new Date().toISOString()} on ${await deps.machine()}, ${deps.threads} threads.`);
  out.push(`Command: \`${deps.command}\``);
  out.push(`Input: ${lines.length} loghub lines, runs of ${runLength} consecutive lines of one system (${systems.join(', ')}; seed ${deps.seed}), ` +
    `${tokens} tokens (mean ${fmt(tokens / lines.length, 1)}, p95 ${percentile(counts, 95)}); ${deps.rounds} interleaved round(s), each contender in its own process.`);
  const report: Record<string, StreamingRow[]> = {};
  for (const name of modelNames) {
    const model = await deps.prepareModel(name);
    const list = contenders(model, deps);
    const perRound: ContenderResult[][] = list.map(() => []);
    const chunk = Math.ceil(lines.length / deps.rounds);
    for (let round = 0; round < deps.rounds; round++) {
      const part = lines.slice(round * chunk, (round + 1) * chunk);
      const partTokens = counts.slice(round * chunk, (round + 1) * chunk).reduce((a, b) => a + b, 0);
      const linesFile = join(deps.workDir, `streaming-${round}.json`);
      writeFileSync(linesFile, JSON.stringify(part));
      const order = list.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        deps.log(`streaming ${name} round ${round + 1}/${deps.rounds}: ${list[i]!.name}`);
        perRound[i]!.push(await list[i]!.run(linesFile, part, partTokens));
      }
    }
    const rows = list.map((c, i) => {
      const r = combineRounds(perRound[i]!);
      return { name: c.name, ...r, linesPerS: r.lines / r.seconds };
    });
    report[name] = rows;
    out.push('', `### ${name === 'tiny' ? 'qwen2-tiny-public F32 (parity model)' : `Qwen2-1.5B-shaped ${name.toUpperCase()}`}`, '');
    out.push('| contender | lines/s | p50 / p99 ms per call | tokens decoded | tokens reused from the prefix cache | peak RSS MiB |', '|---|---|---|---|---|---|');
    for (const r of rows) {
      const pct = (v: number | undefined) => (v === undefined ? '–' : `${fmt((100 * v) / r.tokens, 0)}%`);
      const latency = r.latencyP50Ms !== undefined ? `${fmt(r.latencyP50Ms, 0)} / ${fmt(r.latencyP99Ms, 0)}` : '–';
      out.push(`| ${r.name} | ${fmt(r.linesPerS)} | ${latency} | ${pct(r.tokensDecoded)} | ${pct(r.tokensReused)} | ${fmt(r.peakRssMiB, 0)} |`);
    }
    const get = (n: string) => rows.find((r) => r.name === n);
    const ratio = (a: string, b: string) => {
      const x = get(a), y = get(b);
      return x && y ? `- ${a} vs ${b}: **${fmt(x.linesPerS / y.linesPerS)}×**` : undefined;
    };
    out.push('', ...[
      ratio('logtriage 1 line per call, prefix cache', 'logtriage 1 line per call, no prefix cache'),
      ratio('logtriage 1 line per call, prefix cache', 'node-llama-cpp getEmbeddingFor, 1 line per call'),
      ratio('logtriage 4 lines per call, prefix cache', 'logtriage 4 lines per call, no prefix cache'),
      ratio('logtriage 1 line per call, no prefix cache', 'node-llama-cpp getEmbeddingFor, 1 line per call'),
    ].filter((l): l is string => l !== undefined));
  }
  deps.log('streaming: tokens reused by prefix cache budget (parity model)');
  const sweep = await reuseByBudget(deps.tinyModel, files, SWEEP_LINES, deps.threads);
  out.push('', `### Tokens served by the prefix cache, by cell budget (first ${SWEEP_LINES} lines of each loghub system, one call per line)`, '');
  out.push(`| system | ${BUDGET_SWEEP.map((c) => `${c} cells`).join(' | ')} |`, `|---|${BUDGET_SWEEP.map(() => '---').join('|')}|`);
  for (const [system, byBudget] of Object.entries(sweep)) {
    out.push(`| ${system} | ${BUDGET_SWEEP.map((c) => `${fmt(100 * byBudget[c]!, 0)}%`).join(' | ')} |`);
  }
  const markdown = `${out.join('\n')}\n`;
  writeFileSync(join(deps.outDir, 'streaming.json'), `${JSON.stringify({ lines: lines.length, systems, tokens, threads: deps.threads, models: report, reuseByBudget: sweep }, null, 2)}\n`);
  writeFileSync(join(deps.outDir, 'streaming.md'), markdown);
  return markdown;
}
