// SPDX-License-Identifier: MIT
// The streaming scenario (issue 17), every target of the issue's Benchmark section in one run:
// 1. Streams: time-ordered runs of one system's consecutive lines, system after system, classified
//    one call per line and in calls of 4 lines, with the cross-call prefix cache on and off (off is
//    the release before it), beside node-llama-cpp (one getEmbeddingFor per line) and
//    llama-embedding (the whole file in one process) on the same lines; tokens reused.
// 2. Batch 8 on the bench sample (the default scenario's lines), prefix cache on and off.
// 3. Peak RSS of every logtriage process against 1.1 x file + 150 MB.
// 4. Threads: the default ('auto') against fixed counts, on the idle host and with one core held
//    by a busy-loop child process.
// Each contender runs in its own process; the stream rows are interleaved over rounds.
//
//   npm run bench -- --scenario streaming --models q8_0 [--lines 64] [--run 16] [--threads 2]
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LogClassifier } from '../../src/index.js';
import { llamaToolsDir, runLlamaEmbedding } from './llamaTools.js';
import { rssBoundMiB } from './report.js';
import { combineRounds, percentile, type ContenderResult, type ScenarioDeps } from './results.js';

export interface StreamingDeps extends ScenarioDeps {
  seed: number;
  rounds: number;
  workDir: string;
  runChild: (script: string, payload: object) => Promise<ContenderResult>;
  /** Token counts per line (the tiny model's tokenizer is the same Qwen2 tokenizer). */
  countTokens: (lines: string[]) => Promise<number[]>;
  /** The parity model: reuse depends on tokens only, so the budget sweep runs on it. */
  tinyModel: string;
  /** The default scenario's lines, and its batchTokens for batch 8 (max(512, 8 x p95)). */
  sample: { lines: string[]; batchTokens: number };
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

const SEQ_CACHE = 'logtriage 1 line per call, prefix cache';
const SEQ_TODAY = 'logtriage 1 line per call, no prefix cache';
const NLC = 'node-llama-cpp getEmbeddingFor, 1 line per call';

/** logtriage in a child: `mode` as contenderLogtriage.ts has it, default options but for `options`. */
function ours(model: string, deps: StreamingDeps, name: string, mode: 'sequential' | 'chunks' | 'batch', batchSize: number, options: object, batchTokens = 512, threads: number | 'auto' = deps.threads): Contender {
  return { name, run: (linesFile) => deps.runChild('contenderLogtriage.ts', { model, linesFile, mode, batchSize, batchTokens, callers: 1, prefixSharing: true, threads, options }) };
}

function streamContenders(model: string, deps: StreamingDeps): Contender[] {
  const list: Contender[] = [
    ours(model, deps, SEQ_CACHE, 'sequential', 1, {}),
    ours(model, deps, SEQ_TODAY, 'sequential', 1, { prefixCache: false }),
    ours(model, deps, 'logtriage 4 lines per call, prefix cache', 'chunks', 4, {}),
    ours(model, deps, 'logtriage 4 lines per call, no prefix cache', 'chunks', 4, { prefixCache: false }),
    { name: NLC, run: (linesFile) => deps.runChild('contenderNodeLlamaCpp.ts', { model, linesFile, threads: deps.threads }) },
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

/** Runs each contender on the same lines, once; rows in list order. */
async function measure(list: readonly Contender[], lines: string[], tokens: number, deps: StreamingDeps, label: string): Promise<StreamingRow[]> {
  const linesFile = join(deps.workDir, `streaming-${label.replace(/\W+/g, '-')}.json`);
  writeFileSync(linesFile, JSON.stringify(lines));
  const rows: StreamingRow[] = [];
  for (const c of list) {
    deps.log(`streaming ${label}: ${c.name}`);
    const r = await c.run(linesFile, lines, tokens);
    rows.push({ name: c.name, ...r, linesPerS: r.lines / r.seconds });
  }
  return rows;
}

/** Runs `work` while a busy-loop child process holds one core. */
async function withCoreHogged<T>(work: () => Promise<T>): Promise<T> {
  const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    return await work();
  } finally {
    hog.kill('SIGKILL');
  }
}

const fmt = (v: number | undefined, digits = 2): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function table(rows: readonly StreamingRow[]): string[] {
  const out = ['| contender | lines/s | p50 / p99 ms per call | tokens decoded | tokens reused from the prefix cache | threads at the end | peak RSS MiB |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const pct = (v: number | undefined) => (v === undefined ? '–' : `${fmt((100 * v) / r.tokens, 0)}%`);
    const latency = r.latencyP50Ms !== undefined ? `${fmt(r.latencyP50Ms, 0)} / ${fmt(r.latencyP99Ms, 0)}` : '–';
    out.push(`| ${r.name} | ${fmt(r.linesPerS)} | ${latency} | ${pct(r.tokensDecoded)} | ${pct(r.tokensReused)} | ${r.threads ?? '–'} | ${fmt(r.peakRssMiB, 0)} |`);
  }
  return out;
}

function ratio(rows: readonly StreamingRow[], a: string, b: string, target?: number): string | undefined {
  const x = rows.find((r) => r.name === a);
  const y = rows.find((r) => r.name === b);
  if (!x || !y) return undefined;
  const value = x.linesPerS / y.linesPerS;
  return `- ${a} vs ${b}: **${fmt(value)}×**${target === undefined ? '' : ` (target ≥ ${target}: ${value >= target ? 'met' : 'not met'})`}`;
}

/** Default threads against fixed counts, one line per call with the prefix cache: rows and the default / best ratio. */
async function threadRows(model: string, deps: StreamingDeps, lines: string[], tokens: number, label: string): Promise<{ rows: StreamingRow[]; line: string }> {
  const counts = [...new Set([1, deps.threads])];
  const list = [ours(model, deps, "threads 'auto' (the default)", 'sequential', 1, {}, 512, 'auto'), ...counts.map((n) => ours(model, deps, `threads ${n}`, 'sequential', 1, {}, 512, n))];
  const rows = await measure(list, lines, tokens, deps, label);
  const best = rows.slice(1).reduce((a, b) => (b.linesPerS > a.linesPerS ? b : a));
  const value = rows[0]!.linesPerS / best.linesPerS;
  return { rows, line: `- ${label}: default vs the best fixed count (${best.name}): **${fmt(value)}×** (target ≥ 0.8: ${value >= 0.8 ? 'met' : 'not met'})` };
}

export async function runStreaming(modelNames: readonly string[], nLines: number, runLength: number, files: readonly string[], random: () => number, deps: StreamingDeps): Promise<string> {
  const { lines, systems } = streamingLines(files, nLines, runLength, random);
  const counts = await deps.countTokens(lines);
  const tokens = counts.reduce((a, b) => a + b, 0);
  const threadLines = lines.slice(0, Math.max(4, Math.round((nLines * 3) / 8)));
  const threadTokens = counts.slice(0, threadLines.length).reduce((a, b) => a + b, 0);
  const sampleTokens = (await deps.countTokens(deps.sample.lines)).reduce((a, b) => a + b, 0);
  // 5 stream contenders of nLines (llama-embedding's batched run is short), batch 8 twice, 2 x 3 thread rows.
  const work = 5 * nLines + 2 * deps.sample.lines.length + 6 * threadLines.length;
  deps.log(`streaming: ${lines.length} lines from ${systems.join(', ')}, ${tokens} tokens; ${work} lines classified per model, ~${Math.round(work / 0.5 / 60)} min at 0.5 lines/s`);
  const out: string[] = [];
  out.push(`Measured ${new Date().toISOString()} on ${await deps.machine()}, ${deps.threads} threads unless a row says otherwise.`);
  out.push(`Command: \`${deps.command}\``);
  out.push(`Input: ${lines.length} loghub lines, runs of ${runLength} consecutive lines of one system (${systems.join(', ')}; seed ${deps.seed}), ` +
    `${tokens} tokens (mean ${fmt(tokens / lines.length, 1)}, p95 ${percentile(counts, 95)}); ${deps.rounds} interleaved round(s), each contender in its own process.`);
  const report: Record<string, Record<string, StreamingRow[]>> = {};
  for (const name of modelNames) {
    const model = await deps.prepareModel(name);
    const list = streamContenders(model, deps);
    const perRound: ContenderResult[][] = list.map(() => []);
    const chunk = Math.ceil(lines.length / deps.rounds);
    for (let round = 0; round < deps.rounds; round++) {
      const part = lines.slice(round * chunk, (round + 1) * chunk);
      const partTokens = counts.slice(round * chunk, (round + 1) * chunk).reduce((a, b) => a + b, 0);
      const order = list.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      const rows = await measure(order.map((i) => list[i]!), part, partTokens, deps, `${name} round ${round + 1}`);
      order.forEach((i, k) => perRound[i]!.push(rows[k]!));
    }
    const stream = list.map((c, i) => {
      const r = combineRounds(perRound[i]!);
      return { name: c.name, ...r, linesPerS: r.lines / r.seconds };
    });
    const sample = await measure([
      ours(model, deps, 'logtriage batch 8, prefix cache', 'batch', 8, {}, deps.sample.batchTokens),
      ours(model, deps, 'logtriage batch 8, no prefix cache', 'batch', 8, { prefixCache: false }, deps.sample.batchTokens),
    ], deps.sample.lines, sampleTokens, deps, `${name} sample`);
    const idle = await threadRows(model, deps, threadLines, threadTokens, 'idle host');
    const loaded = await withCoreHogged(() => threadRows(model, deps, threadLines, threadTokens, 'one core held by a busy loop'));
    report[name] = { stream, sample, threadsIdle: idle.rows, threadsLoaded: loaded.rows };

    const sizeMiB = statSync(model).size / 2 ** 20;
    const ourRss = Math.max(...[...stream, ...sample, ...idle.rows, ...loaded.rows].filter((r) => !r.name.startsWith('node-llama') && !r.name.startsWith('llama-')).map((r) => r.peakRssMiB ?? 0));
    out.push('', `### ${name === 'tiny' ? 'qwen2-tiny-public F32 (parity model)' : `Qwen2-1.5B-shaped ${name.toUpperCase()}`}`, '', '#### Streams', '', ...table(stream), '');
    out.push(...[
      ratio(stream, SEQ_CACHE, SEQ_TODAY, 1.3),
      ratio(stream, SEQ_CACHE, NLC, 2),
      ratio(stream, 'logtriage 4 lines per call, prefix cache', 'logtriage 4 lines per call, no prefix cache'),
      ratio(stream, SEQ_TODAY, NLC),
    ].filter((l): l is string => l !== undefined));
    out.push('', `#### Batch 8 on the bench sample (${deps.sample.lines.length} lines, ${sampleTokens} tokens, batchTokens ${deps.sample.batchTokens})`, '', ...table(sample), '');
    out.push(ratio(sample, 'logtriage batch 8, prefix cache', 'logtriage batch 8, no prefix cache', 0.98)!);
    const bound = rssBoundMiB(sizeMiB);
    out.push('', `#### Peak RSS`, '', `- worst logtriage process: ${fmt(ourRss, 0)} MiB against 1.1 × ${fmt(sizeMiB, 0)} MiB + 150 MB = ${fmt(bound, 0)} MiB (${ourRss <= bound ? 'met' : 'not met'})`);
    out.push('', `#### Threads (${threadLines.length} lines, one call per line, prefix cache)`, '', 'Idle host:', '', ...table(idle.rows), '', 'One core held by a busy-loop child process:', '', ...table(loaded.rows), '', idle.line, loaded.line);
  }
  deps.log('streaming: tokens reused by prefix cache budget (parity model)');
  // One thread: reuse depends on tokens only, and one thread never spins against a busy host.
  const sweepLines = Math.min(SWEEP_LINES, nLines);
  const sweep = await reuseByBudget(deps.tinyModel, files, sweepLines, 1);
  out.push('', `### Tokens served by the prefix cache, by cell budget (first ${sweepLines} lines of each loghub system, one call per line)`, '');
  out.push(`| system | ${BUDGET_SWEEP.map((c) => `${c} cells`).join(' | ')} |`, `|---|${BUDGET_SWEEP.map(() => '---').join('|')}|`);
  for (const [system, byBudget] of Object.entries(sweep)) {
    out.push(`| ${system} | ${BUDGET_SWEEP.map((c) => `${fmt(100 * byBudget[c]!, 0)}%`).join(' | ')} |`);
  }
  const markdown = `${out.join('\n')}\n`;
  writeFileSync(join(deps.outDir, 'streaming.json'), `${JSON.stringify({ lines: lines.length, systems, tokens, threads: deps.threads, models: report, reuseByBudget: sweep }, null, 2)}\n`);
  writeFileSync(join(deps.outDir, 'streaming.md'), markdown);
  return markdown;
}
