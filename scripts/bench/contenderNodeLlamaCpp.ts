// SPDX-License-Identifier: MIT
// Benchmark child: the peer binding, node-llama-cpp 3.21.1. One getEmbeddingFor() per line (its
// embedding context pools per the GGUF's pooling type, LAST), then the head W·h in JS.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { readGgufHeader, validateLogtriageModel } from '../../src/gguf/index.js';
import { percentile, type ContenderResult } from './results.js';

const args = JSON.parse(process.argv[2]!) as { model: string; linesFile: string; threads: number };
const lines = JSON.parse(readFileSync(args.linesFile, 'utf8')) as string[];
const meta = validateLogtriageModel(await readGgufHeader(args.model));

const loadStart = performance.now();
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
const model = await llama.loadModel({ modelPath: args.model });
const context = await model.createEmbeddingContext({ contextSize: 2048, batchSize: 512, threads: args.threads });
const loadMs = performance.now() - loadStart;

const nLabels = meta.labels.length;
const applyHead = (h: readonly number[]): number[] =>
  Array.from({ length: nLabels }, (_, l) => {
    let acc = 0;
    for (let j = 0; j < h.length; j++) acc += meta.head.weight[l * h.length + j]! * h[j]!;
    return acc;
  });

const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const latencies: number[] = [];
let tokens = 0;
const started = performance.now();
for (const line of lines) {
  const t = performance.now();
  const embedding = await context.getEmbeddingFor(line);
  applyHead(embedding.vector);
  latencies.push(performance.now() - t);
  tokens += model.tokenize(line).length;
}
const seconds = (performance.now() - started) / 1000;
loopDelay.disable();
await context.dispose();
await model.dispose();

const result: ContenderResult = {
  lines: lines.length,
  tokens,
  seconds,
  loadMs,
  eventLoopP99Ms: loopDelay.percentile(99) / 1e6,
  latencyP50Ms: percentile(latencies, 50),
  latencyP99Ms: percentile(latencies, 99),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
