// SPDX-License-Identifier: MIT
// `logtriage bench <log-file> --model m`: this machine's lines/s and tokens/s on a model and a
// file, at a few batch sizes, in this process. The side-by-side benchmark against llama.cpp and
// node-llama-cpp is `npm run bench` (scripts/bench/bench.ts); this is the quick check a user runs.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { LogClassifier } from '../../LogClassifier.js';
import { ValidationError } from '../../errors.js';
import type { OpenOptions } from '../../options.js';
import { readLogLines } from '../../lines/readLogLines.js';

export interface BenchCommandOptions {
  model?: string;
  lines: number;
  batchSizes: number[];
  json?: boolean;
  /** Longest line read (bytes); default DEFAULT_MAX_LINE_BYTES. */
  maxLineBytes?: number;
  open: OpenOptions;
}

export interface BenchRun {
  batchSize: number;
  prefixSharing: boolean;
  lines: number;
  tokens: number;
  tokensDecoded: number;
  seconds: number;
  linesPerSecond: number;
  tokensPerSecond: number;
}

async function firstLines(file: string, count: number, maxLineBytes: number | undefined): Promise<string[]> {
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines: string[] = [];
  for await (const line of readLogLines(input, { maxLineBytes })) {
    if (line.text.trim().length === 0) continue;
    lines.push(line.text);
    if (lines.length === count) break;
  }
  raw.destroy();
  return lines;
}

async function measure(model: string | undefined, lines: string[], batchSize: number, prefixSharing: boolean, open: OpenOptions): Promise<BenchRun> {
  const tokenBudget = Math.max(512, batchSize * 128);
  const clf = await LogClassifier.open(model, { ...open, batchSize, batchTokens: tokenBudget, prefixSharing, resultCache: 0 });
  try {
    await clf.classify(lines[0]!); // pages the weights in; not timed
    const before = clf.stats();
    const started = performance.now();
    const results = await clf.classifyMany(lines);
    const seconds = (performance.now() - started) / 1000;
    const after = clf.stats();
    const tokens = results.reduce((n, r) => n + r.tokens, 0);
    return {
      batchSize,
      prefixSharing,
      lines: lines.length,
      tokens,
      tokensDecoded: after.tokensDecoded - before.tokensDecoded,
      seconds,
      linesPerSecond: lines.length / seconds,
      tokensPerSecond: tokens / seconds,
    };
  } finally {
    await clf.dispose();
  }
}

export async function benchCommand(file: string, options: BenchCommandOptions): Promise<BenchRun[]> {
  const lines = await firstLines(file, options.lines, options.maxLineBytes);
  if (lines.length === 0) throw new ValidationError(`${file} has no non-blank lines to classify`);
  const runs: BenchRun[] = [];
  for (const batchSize of options.batchSizes) {
    for (const prefixSharing of [true, false]) {
      const run = await measure(options.model, lines, batchSize, prefixSharing, options.open);
      runs.push(run);
      if (!options.json) {
        const saved = 100 * (1 - run.tokensDecoded / run.tokens);
        process.stdout.write(
          `batch ${String(batchSize).padStart(3)}  prefix sharing ${prefixSharing ? 'on ' : 'off'}  ` +
            `${run.linesPerSecond.toFixed(2).padStart(8)} lines/s  ${run.tokensPerSecond.toFixed(1).padStart(8)} tokens/s  ` +
            `${saved.toFixed(0).padStart(3)}% tokens saved\n`,
        );
      }
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ file, lines: lines.length, runs }, null, 2)}\n`);
  return runs;
}
