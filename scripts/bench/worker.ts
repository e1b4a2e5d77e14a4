// SPDX-License-Identifier: MIT
// Worker benchmark on a real nats-server (JetStream, file storage, loopback): (1) throughput of
// one worker draining a pre-loaded stream vs direct classifyMany() on the same lines and the same
// classifier, interleaved round by round (direct, then each worker variant; target >= 0.95x), with
// where the time goes: the engine's busy fraction (native call time / wall time), native calls and
// lines per call, and the CPU time nats-server spent per line; (2) publish -> result latency
// p50/p99 at a steady publish rate. The result cache is off, so repeats cost the same.
// Prints a JSON report on stdout.
//
//   npx tsx scripts/bench/worker.ts                              # tiny test model, 2,000 lines, 3 rounds
//   npx tsx scripts/bench/worker.ts --variants 64x2,64x3,256x2   # worker batch size x batches in flight
//   npx tsx scripts/bench/worker.ts --model m.gguf --lines 500 --rate 2 --seconds 60 --threads 4

import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { LogClassifier } from '../../src/index.js';
import { JetStreamWorker } from '../../src/worker/index.js';
import { startNatsServer } from '../../test/worker/natsServer.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: join(root, 'test-artifacts', 'models', 'qwen2-tiny-f32.gguf') },
    lines: { type: 'string', default: '2000' },
    threads: { type: 'string', default: '1' },
    /** Worker variants, each `<batch size>x<batches in flight>`; the first is also the latency run's. */
    variants: { type: 'string', default: '64x2' },
    rounds: { type: 'string', default: '3' },
    /** Lines per second for the latency run; default: half the measured worker throughput. */
    rate: { type: 'string' },
    seconds: { type: 'string', default: '20' },
  },
});
const lineCount = Number(args.lines);
const openOptions = { threads: Number(args.threads), resultCache: 0 };
const variants = args.variants.split(',').map((v) => {
  const [batchSize, batchesInFlight] = v.split('x').map(Number);
  if (!Number.isInteger(batchSize) || !Number.isInteger(batchesInFlight)) throw new Error(`--variants: expected <batch size>x<batches in flight>, got '${v}'`);
  return { name: v, batchSize: batchSize!, batchesInFlight: batchesInFlight! };
});

function loghubLines(count: number): string[] {
  const dir = join(root, '..', 'shared', 'data', 'loghub');
  const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  const perFile = Math.ceil(count / files.length);
  return files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split(/\r?\n/).filter((l) => l.trim()).slice(0, perFile)).slice(0, count);
}

/** CPU time (ms) a process (or one of this process's threads, `task/<tid>`) has used, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number | string | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
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
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

interface Timed {
  seconds: number;
  /** Native call time / wall time: below 1 the engine waited for the worker or the broker. */
  busy: number;
  calls: number;
  linesPerCall: number;
  /** CPU ms per line: this process's main thread (tokenizing; for the worker also the NATS client, decoding, publishing, acking), its other threads (the engine), and nats-server. */
  cpuMsPerLine: { main: number; engine: number; nats: number };
}

/** CPU counters to subtract: the main thread, the whole process, nats-server. */
const cpuNow = (natsPid: number | undefined) => ({ main: cpuMs(`self/task/${process.pid}`), all: cpuMs('self'), nats: cpuMs(natsPid) });

async function main(): Promise<void> {
  const lines = loghubLines(lineCount);
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const js = jetstream(nc);
  const classifier = await LogClassifier.open(args.model, openOptions);
  let native = { calls: 0, lines: 0, ms: 0 };
  classifier.onBatch((t) => {
    native.calls++;
    native.lines += t.lines;
    native.ms += t.inferenceMs;
  });
  const timed = (seconds: number, cpu0: ReturnType<typeof cpuNow>): Timed => {
    const cpu = cpuNow(server.pid);
    const perLine = (ms: number) => round3(ms / lines.length);
    return {
      seconds: round3(seconds),
      busy: round3(native.ms / 1000 / seconds),
      calls: native.calls,
      linesPerCall: round3(native.lines / native.calls),
      cpuMsPerLine: { main: perLine(cpu.main - cpu0.main), engine: perLine(cpu.all - cpu0.all - (cpu.main - cpu0.main)), nats: perLine(cpu.nats - cpu0.nats) },
    };
  };
  const optionsOf = (v: (typeof variants)[number]) => ({ servers: [server.url], batchSize: v.batchSize, batchesInFlight: v.batchesInFlight });
  try {
    await classifier.classifyMany(lines.slice(0, 32)); // warm-up
    await (await JetStreamWorker.start(classifier, optionsOf(variants[0]!))).stop(); // creates the streams
    const direct: Timed[] = [];
    const workers = new Map<string, Timed[]>(variants.map((v) => [v.name, []]));
    for (let round = 0; round < Number(args.rounds); round++) {
      native = { calls: 0, lines: 0, ms: 0 };
      let cpu0 = cpuNow(server.pid);
      let started = performance.now();
      await classifier.classifyMany(lines);
      direct.push(timed((performance.now() - started) / 1000, cpu0));
      for (const v of variants) {
        // The stream holds every line before the worker starts; the clock runs from its first pull.
        for (let i = 0; i < lines.length; i += 500) await Promise.all(lines.slice(i, i + 500).map((l) => js.publish('logs.raw.bench', l)));
        const results = collectResults(nc, lines.length);
        const worker = await JetStreamWorker.start(classifier, optionsOf(v));
        native = { calls: 0, lines: 0, ms: 0 };
        cpu0 = cpuNow(server.pid);
        started = performance.now();
        await results.done;
        workers.get(v.name)!.push(timed((performance.now() - started) / 1000, cpu0));
        await worker.stop();
      }
    }
    const directRate = (i: number) => lines.length / direct[i]!.seconds;
    const report = Object.fromEntries(
      [...workers].map(([name, runs]) => {
        const ratios = runs.map((r, i) => round3(lines.length / r.seconds / directRate(i)));
        return [name, { ratioToDirect: median(ratios), ratiosByRound: ratios, linesPerSecond: round3(median(runs.map((r) => lines.length / r.seconds))), runs }];
      }),
    );

    // Latency at a steady rate: publish time -> result seen by a subscriber.
    const first = report[variants[0]!.name]!;
    const rate = args.rate !== undefined ? Number(args.rate) : Math.max(1, Math.floor(first.linesPerSecond / 2));
    const total = Math.max(1, Math.floor(rate * Number(args.seconds)));
    const worker = await JetStreamWorker.start(classifier, optionsOf(variants[0]!));
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
    const latencies = [...latency.arrivals].map(([seq, at]) => at - sent.get(seq)!).sort((a, b) => a - b);

    process.stdout.write(
      `${JSON.stringify(
        {
          model: args.model,
          lines: lines.length,
          threads: openOptions.threads,
          direct: { linesPerSecond: round3(median(direct.map((_, i) => directRate(i)))), runs: direct },
          workers: report,
          latency: { variant: variants[0]!.name, rate, messages: latencies.length, p50ms: round3(percentile(latencies, 50)), p99ms: round3(percentile(latencies, 99)), maxMs: round3(latencies.at(-1)!) },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await classifier.dispose();
    await nc.close();
    await server.dispose();
  }
}

await main();
