// SPDX-License-Identifier: MIT
// Worker benchmark on a real nats-server (JetStream, file storage, loopback): (1) throughput of
// one worker draining a pre-loaded stream vs direct classifyMany() on the same lines, side by side
// in one run (direct, worker, direct; target >= 0.95x); (2) publish -> result latency p50/p99 at a
// steady publish rate. Both classifiers run with the result cache off, so repeats cost the same.
// Prints a JSON report on stdout.
//
//   npx tsx scripts/bench-worker.ts                              # tiny test model, 2,000 lines
//   npx tsx scripts/bench-worker.ts --model m.gguf --lines 500 --rate 2 --seconds 60 --threads 4

import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { LogClassifier } from '../src/index.js';
import { JetStreamWorker } from '../src/worker/index.js';
import { startNatsServer } from '../test/worker/natsServer.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: join(root, 'test-artifacts', 'models', 'qwen2-tiny-f32.gguf') },
    lines: { type: 'string', default: '2000' },
    threads: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '64' },
    /** Lines per second for the latency run; default: half the measured worker throughput. */
    rate: { type: 'string' },
    seconds: { type: 'string', default: '20' },
  },
});
const lineCount = Number(args.lines);
const openOptions = { threads: Number(args.threads), resultCache: 0 };

function loghubLines(count: number): string[] {
  const dir = join(root, '..', 'shared', 'data', 'loghub');
  const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  const perFile = Math.ceil(count / files.length);
  return files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split(/\r?\n/).filter((l) => l.trim()).slice(0, perFile)).slice(0, count);
}

async function timeDirect(lines: string[]): Promise<number> {
  await using classifier = await LogClassifier.open(args.model, openOptions);
  await classifier.classifyMany(lines.slice(0, 32)); // warm-up
  const started = performance.now();
  await classifier.classifyMany(lines);
  return (performance.now() - started) / 1000;
}

/** Resolves with each result's arrival time (ms), keyed by input sequence, once `count` arrived. */
function collectResults(nc: NatsConnection, count: number): { arrivals: Map<number, number>; done: Promise<void> } {
  const arrivals = new Map<number, number>();
  const sub = nc.subscribe('logs.classified');
  const done = (async () => {
    for await (const m of sub) {
      arrivals.set(Number(m.headers?.get('Logtriage-Source-Seq')), performance.now());
      if (arrivals.size >= count) break;
    }
    sub.unsubscribe();
  })();
  return { arrivals, done };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main(): Promise<void> {
  const lines = loghubLines(lineCount);
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const js = jetstream(nc);
  const workerOptions = { servers: [server.url], batchSize: Number(args['batch-size']) };
  try {
    const direct1 = await timeDirect(lines);

    // Throughput: the stream holds every line before the worker starts.
    const classifier = await LogClassifier.open(args.model, openOptions);
    await classifier.classifyMany(lines.slice(0, 32));
    await (await JetStreamWorker.start(classifier, workerOptions)).stop(); // creates the streams
    for (let i = 0; i < lines.length; i += 500) await Promise.all(lines.slice(i, i + 500).map((l) => js.publish('logs.raw.bench', l)));
    const results = collectResults(nc, lines.length);
    const started = performance.now();
    let worker = await JetStreamWorker.start(classifier, workerOptions);
    await results.done;
    const workerSeconds = (performance.now() - started) / 1000;
    await worker.stop();

    const direct2 = await timeDirect(lines);
    const directSeconds = (direct1 + direct2) / 2;
    const workerRate = lines.length / workerSeconds;

    // Latency at a steady rate: publish time -> result seen by a subscriber.
    const rate = args.rate !== undefined ? Number(args.rate) : Math.max(1, Math.floor(workerRate / 2));
    const total = Math.max(1, Math.floor(rate * Number(args.seconds)));
    worker = await JetStreamWorker.start(classifier, workerOptions);
    const latency = collectResults(nc, total);
    const sent = new Map<number, number>();
    const t0 = performance.now();
    const publishes: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const at = performance.now();
      publishes.push(js.publish('logs.raw.bench', lines[i % lines.length]!).then((ack) => void sent.set(ack.seq, at)));
    }
    await Promise.all(publishes);
    await latency.done;
    await worker.stop();
    await classifier.dispose();
    const latencies = [...latency.arrivals].map(([seq, at]) => at - sent.get(seq)!).sort((a, b) => a - b);

    process.stdout.write(
      `${JSON.stringify(
        {
          model: args.model,
          lines: lines.length,
          threads: openOptions.threads,
          batchSize: workerOptions.batchSize,
          direct: { seconds: [direct1, direct2], linesPerSecond: lines.length / directSeconds },
          worker: { seconds: workerSeconds, linesPerSecond: workerRate, ratioToDirect: workerRate / (lines.length / directSeconds) },
          latency: { rate, messages: latencies.length, p50ms: percentile(latencies, 50), p99ms: percentile(latencies, 99), maxMs: latencies.at(-1) },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await nc.close();
    await server.dispose();
  }
}

await main();
