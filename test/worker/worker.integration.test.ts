// SPDX-License-Identifier: MIT
// Workers on a real nats-server (JetStream, file storage, random loopback port): exactly one
// output per input with several workers, after a kill -9 mid-batch, and across a server restart;
// a worker holds only its window of a backlog.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { JetStreamWorker } from '../../src/worker/index.js';
import { tinyModel } from '../fixtures/index.js';
import { metricValue, sampleLines, waitFor } from '../server/helpers.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { readStream, type StoredResult } from './readStream.js';
import { spawnWorker, type WorkerChild } from './spawnWorker.js';

const LINES = 3000;
const MODEL = tinyModel('f32');

/** Publishes every line to `subject` (awaiting each PubAck in windows) and returns the sequences in order. */
async function publishLines(nc: NatsConnection, subject: string, lines: readonly string[]): Promise<number[]> {
  const js = jetstream(nc);
  const seqs: number[] = [];
  for (let start = 0; start < lines.length; start += 200) {
    const acks = await Promise.all(lines.slice(start, start + 200).map((l) => js.publish(subject, l)));
    seqs.push(...acks.map((a) => a.seq));
  }
  return seqs;
}

async function outputCount(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(stream)).state.messages;
}

/** Waits until the output stream holds `count` messages, polling every 250 ms. */
async function waitForOutputs(nc: NatsConnection, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while ((seen = await outputCount(nc, 'LOGS_CLASSIFIED')) < count) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} outputs (${seen} so far)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Generous: three workers and this process share two cores with everything else on the machine. */
const TEST_TIMEOUT_MS = 300_000;

/** Each input sequence has exactly one stored result, equal to the direct classification of its line. */
function expectExactlyOnce(results: StoredResult[], seqs: number[], lines: readonly string[], direct: ClassificationResult[]): void {
  expect(results).toHaveLength(lines.length);
  const byId = new Map(results.map((r) => [r.id, r]));
  expect(byId.size).toBe(lines.length);
  let mismatches = 0;
  seqs.forEach((seq, i) => {
    const r = byId.get(`LOGS:${seq}`);
    expect(r, `result of LOGS:${seq}`).toBeDefined();
    expect(r!.body.message).toBe(lines[i]);
    if (r!.body.logtriage.label !== direct[i]!.label || Math.abs(r!.body.logtriage.score - direct[i]!.score) > 1e-4) mismatches++;
  });
  expect(mismatches).toBe(0);
}

const workerArgs = (server: NatsServer) => ['--servers', server.url, '--model', MODEL, '--threads', '1', '--ack-wait', '2', '--batch-size', '32', '--metrics-port', '0'];

describe('logtriage worker on JetStream', () => {
  let lines: string[];
  let direct: ClassificationResult[];

  beforeAll(async () => {
    lines = sampleLines(LINES);
    expect(lines).toHaveLength(LINES);
    await using classifier = await LogClassifier.open(MODEL, { threads: 1 });
    direct = await classifier.classifyMany(lines);
  });

  for (const killOne of [false, true]) {
    it(`3 workers${killOne ? ', one killed with SIGKILL mid-batch,' : ''} publish exactly one result per input, equal to classifyMany`, async () => {
      // The kill test needs a run long enough to kill into, not all 3,000 lines again.
      const count = killOne ? LINES / 2 : LINES;
      const server = await startNatsServer();
      const workers: WorkerChild[] = [];
      const nc = await connect({ servers: server.url });
      try {
        // One at a time: the first creates the streams and consumer, the others find them.
        workers.push(await spawnWorker(workerArgs(server)));
        workers.push(...(await Promise.all([spawnWorker(workerArgs(server)), spawnWorker(workerArgs(server))])));
        const seqs = await publishLines(nc, 'logs.raw.test', lines.slice(0, count));
        if (killOne) {
          // Mid-run: the victim holds a batch in the classifier and more pulled ahead, none acked.
          await waitForOutputs(nc, count / 3, 120_000);
          workers[0]!.child.kill('SIGKILL');
          expect((await workers[0]!.exited).signal).toBe('SIGKILL');
        }
        await waitForOutputs(nc, count, 240_000);
        const jsm = await jetstreamManager(nc);
        await waitFor(async () => (await jsm.consumers.info('LOGS', 'logtriage')).num_ack_pending === 0, 'every input acked', 30_000);
        expectExactlyOnce(await readStream(nc, 'LOGS_CLASSIFIED', 'logs.classified'), seqs, lines.slice(0, count), direct);
        expect(await readStream(nc, 'LOGS_CLASSIFIED', 'logs.dead')).toHaveLength(0);
        const survivors = workers.slice(killOne ? 1 : 0);
        const scraped = await Promise.all(survivors.map(async (w) => (await fetch(w.metricsUrl!)).text()));
        const sum = (name: string) => scraped.reduce((n, text) => n + (metricValue(text, name) ?? NaN), 0);
        // The survivors published everything the victim had not: their results and their redeliveries.
        expect(sum('logtriage_worker_lines_out_total')).toBeGreaterThan(killOne ? count / 3 : count - 1);
        if (killOne) expect(sum('logtriage_worker_redeliveries_total')).toBeGreaterThan(0);
        else expect(sum('logtriage_worker_redeliveries_total')).toBe(0);
        for (const w of survivors) {
          w.child.kill('SIGTERM');
          expect(await w.exited).toEqual({ code: 0, signal: null });
        }
      } finally {
        for (const w of workers) w.child.kill('SIGKILL');
        if (workers.some((w) => /warn|fail/i.test(w.stderr()))) console.error(workers.map((w) => w.stderr()).join('\n'));
        await nc.close();
        await server.dispose();
      }
    });
  }

  it('holds no more than its window (batchSize × (batchesInFlight + 1)) of a backlog: the rest stays for the other workers', async () => {
    const server = await startNatsServer();
    const part = lines.slice(0, 1500);
    await using classifier = await LogClassifier.open(MODEL, { threads: 1 });
    const options = { servers: [server.url], batchSize: 4, batchesInFlight: 2 };
    await (await JetStreamWorker.start(classifier, options)).stop(); // the streams and the consumer
    const nc = await connect({ servers: server.url });
    try {
      const seqs = await publishLines(nc, 'logs.raw.test', part);
      const jsm = await jetstreamManager(nc);
      const first = await JetStreamWorker.start(classifier, options);
      let mostHeld = 0;
      while ((await outputCount(nc, 'LOGS_CLASSIFIED')) < part.length / 3) {
        mostHeld = Math.max(mostHeld, (await jsm.consumers.info('LOGS', 'logtriage')).num_ack_pending);
      }
      const second = await JetStreamWorker.start(classifier, options);
      await waitForOutputs(nc, part.length, 240_000);
      await Promise.all([first.stop(), second.stop()]);
      expect(mostHeld).toBeGreaterThan(0);
      // The server counts a message until it has processed its ack, which can come after the fetch
      // that took the freed room (acks and pull requests take separate paths in nats-server): one
      // window of slack. Pulling on receipt (consume()) held max_ack_pending (1,024) here.
      expect(mostHeld).toBeLessThanOrEqual(2 * 4 * 3);
      const outOf = async (w: JetStreamWorker) => (await w.metrics.linesOut.get()).values[0]?.value ?? 0;
      expect((await outOf(first)) + (await outOf(second))).toBe(part.length);
      expect(await outOf(second)).toBeGreaterThan(0);
      expectExactlyOnce(await readStream(nc, 'LOGS_CLASSIFIED', 'logs.classified'), seqs, part, direct.slice(0, part.length));
    } finally {
      await nc.close();
      await server.dispose();
    }
  }, TEST_TIMEOUT_MS);

  it('idle for longer than two fetches (5 s each): the fetches expire without a warning, and a message published then is classified', async () => {
    const server = await startNatsServer();
    await using classifier = await LogClassifier.open(MODEL, { threads: 1 });
    const warnings: string[] = [];
    const worker = await JetStreamWorker.start(classifier, { servers: [server.url], batchSize: 4 }, { onWarning: (m, err) => warnings.push(`${m} ${String(err)}`) });
    const nc = await connect({ servers: server.url });
    try {
      await new Promise((r) => setTimeout(r, 11_000));
      await publishLines(nc, 'logs.raw.test', lines.slice(0, 1));
      await waitForOutputs(nc, 1, 30_000);
      expect(warnings).toEqual([]);
    } finally {
      await worker.stop();
      await nc.close();
      await server.dispose();
    }
  }, TEST_TIMEOUT_MS);

  it('a nats-server restart mid-run (file storage): the workers reconnect and finish, nothing lost or doubled', async () => {
    const server = await startNatsServer();
    const part = lines.slice(0, 600);
    await using classifier = await LogClassifier.open(MODEL, { threads: 1 });
    const workers = [
      await JetStreamWorker.start(classifier, { servers: [server.url], ackWaitMs: 2000, batchSize: 16 }),
      await JetStreamWorker.start(classifier, { servers: [server.url], ackWaitMs: 2000, batchSize: 16 }),
    ];
    let nc = await connect({ servers: server.url });
    try {
      const seqs = await publishLines(nc, 'logs.raw.test', part);
      await waitForOutputs(nc, 100, 120_000);
      expect(await outputCount(nc, 'LOGS_CLASSIFIED')).toBeLessThan(part.length);
      await nc.close();
      await server.restart();
      nc = await connect({ servers: server.url });
      await waitForOutputs(nc, part.length, 240_000);
      const results = await readStream(nc, 'LOGS_CLASSIFIED', 'logs.classified');
      expectExactlyOnce(results, seqs, part, direct.slice(0, part.length));
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await nc.close();
      await server.dispose();
    }
  }, TEST_TIMEOUT_MS);
});
