// SPDX-License-Identifier: MIT
// Benchmark child: logtriage on one GGUF and a lines file. Prints one JSON result on stdout.
//   mode 'batch': classifyMany over all lines with `batchSize` lines per decode
//   mode 'sequential': classify() one line at a time (batch 1; gives single-line latency)
//   mode 'chunks': classifyMany() on `batchSize` lines at a time, one call after the other (a worker fetching small batches)
//   mode 'concurrent': `callers` concurrent classify() callers, default batching
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LogClassifier } from '../../src/index.js';
import { percentile, type ContenderResult } from './results.js';

interface Args {
  model: string;
  linesFile: string;
  mode: 'batch' | 'sequential' | 'chunks' | 'concurrent';
  batchSize: number;
  batchTokens: number;
  callers: number;
  prefixSharing: boolean;
  /** A count, or 'auto' (the default: adapts at run time). */
  threads: number | 'auto';
  /** Further `open()` options, for lever sweeps (flashAttn, kvCacheType, useMmap, ubatchTokens…). */
  options?: Record<string, unknown>;
}

const args = JSON.parse(process.argv[2]!) as Args;
const lines = JSON.parse(readFileSync(args.linesFile, 'utf8')) as string[];

const loadStart = performance.now();
const clf = await LogClassifier.open(args.model, {
  threads: args.threads,
  gpu: 'cpu',
  resultCache: 0,
  prefixSharing: args.prefixSharing,
  ...(args.mode === 'concurrent' ? {} : { batchSize: args.batchSize, batchTokens: args.batchTokens }),
  ...args.options,
});
const loadMs = performance.now() - loadStart;

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const latencies: number[] = [];
const started = performance.now();
let tokens = 0;
if (args.mode === 'batch') {
  tokens = (await clf.classifyMany(lines)).reduce((n, r) => n + r.tokens, 0);
} else if (args.mode === 'chunks') {
  for (let i = 0; i < lines.length; i += args.batchSize) {
    const t = performance.now();
    tokens += (await clf.classifyMany(lines.slice(i, i + args.batchSize))).reduce((n, r) => n + r.tokens, 0);
    latencies.push(performance.now() - t);
  }
} else if (args.mode === 'sequential') {
  for (const line of lines) {
    const t = performance.now();
    tokens += (await clf.classify(line)).tokens;
    latencies.push(performance.now() - t);
  }
} else {
  let next = 0;
  await Promise.all(
    Array.from({ length: args.callers }, async () => {
      while (next < lines.length) {
        const result = await clf.classify(lines[next++]!);
        tokens += result.tokens;
      }
    }),
  );
}
const seconds = (performance.now() - started) / 1000;
loopDelay.disable();
const stats = clf.stats();
await clf.dispose();

const result: ContenderResult = {
  threads: stats.threads,
  lines: lines.length,
  tokens,
  seconds,
  loadMs,
  tokensDecoded: stats.tokensDecoded,
  tokensReused: stats.tokensReused,
  eventLoopP99Ms: loopDelay.percentile(99) / 1e6,
  ...(latencies.length > 0 ? { latencyP50Ms: percentile(latencies, 50), latencyP99Ms: percentile(latencies, 99) } : {}),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
