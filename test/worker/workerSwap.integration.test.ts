// SPDX-License-Identifier: MIT
// `logtriage worker` swaps its model on SIGHUP mid-stream (a real nats-server): the --model file
// is replaced by one with another head, every input still has exactly one result, and each result
// names (record and Logtriage-Model header) the model whose labels it carries; in both swap modes.
// --swap-mode pause (in process, the new model's open held): while the swap runs the old model is
// freed, no batch runs, nothing is published, dead-lettered or nak'd, and /ready answers 503; the
// messages published meanwhile are all classified by the new model afterwards.
import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier } from '../../src/index.js';
import { ModelSlot } from '../../src/ModelSlot.js';
import { JetStreamWorker, serveWorkerMetrics } from '../../src/worker/index.js';
import { readGgufHeader, validateLogtriageModel } from '../../src/gguf/index.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { tinyModel } from '../fixtures/index.js';
import { metricValue, waitFor } from '../server/helpers.js';
import { startNatsServer } from './natsServer.js';
import { readStream } from './readStream.js';
import { spawnWorker } from './spawnWorker.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-worker-swap-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Labels by digest name (12 hex characters), read from the file's header. */
async function describeModel(path: string): Promise<[string, string[]]> {
  const meta = validateLogtriageModel(await readGgufHeader(path));
  return [meta.digest!.id.slice(0, 12), meta.labels];
}

/** The tiny model at `served`, and at `other` the same weights under other label names (another digest). */
async function twoModels(name: string): Promise<{ served: string; other: string; labelsOf: Map<string, string[]> }> {
  const served = join(dir, `${name}-served.gguf`);
  const other = join(dir, `${name}-other.gguf`);
  await copyFile(tinyModel('q8_0'), served);
  await copyGguf(served, other, {
    editMetadata: (m) => {
      const labels = m.get('qwen2.classifier.output_labels')!;
      m.set('qwen2.classifier.output_labels', { ...labels, value: (labels.value as string[]).map((l) => `B${l}`) } as typeof labels);
    },
  });
  const labelsOf = new Map([await describeModel(served), await describeModel(other)]);
  expect(labelsOf.size).toBe(2);
  return { served, other, labelsOf };
}

describe('logtriage worker on SIGHUP', () => {
  it.each(['overlap', 'pause'])('--swap-mode %s swaps mid-stream: every input one result, each stamped with the model that produced it', async (mode) => {
    const { served, other, labelsOf } = await twoModels(mode);
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const worker = await spawnWorker(['--servers', server.url, '--model', served, '--threads', '1', '--batch-size', '4', '--swap-mode', mode, '--metrics-port', '0'], { LOGTRIAGE_CACHE_DIR: join(dir, 'cache') });
    try {
      const js = jetstream(nc);
      const seqs: number[] = [];
      const publish = async (n: number) => {
        for (let i = 0; i < n; i++) seqs.push((await js.publish('logs.raw.test', `sshd[${seqs.length}]: Failed password for root from 203.0.113.${seqs.length % 250}`)).seq);
      };
      await publish(30);
      await rename(other, served); // the new file at --model, then SIGHUP while the stream is being worked
      worker.child.kill('SIGHUP');
      await publish(30);
      await waitFor(async () => /model swapped/.test(worker.stderr()), 'the swap', 120_000);
      await publish(20);
      const jsm = await jetstreamManager(nc);
      await waitFor(async () => (await jsm.streams.info('LOGS_CLASSIFIED')).state.messages >= seqs.length, 'a result per input', 120_000);
      await waitFor(async () => (await jsm.consumers.info('LOGS', 'logtriage')).num_ack_pending === 0, 'every input acked', 30_000);
      const results = await readStream(nc, 'LOGS_CLASSIFIED', 'logs.classified');
      expect(results.map((r) => r.id).sort()).toEqual(seqs.map((s) => `LOGS:${s}`).sort());
      const seen = new Set<string>();
      for (const r of results) {
        const model = r.body.logtriage.model as string;
        expect(r.headers['Logtriage-Model']).toBe(model);
        expect(labelsOf.get(model)).toContain(r.body.logtriage.label);
        seen.add(model);
      }
      expect(seen.size).toBe(2);
      expect(worker.stderr()).not.toMatch(/swap failed/);
      // Nothing the server sent was lost to a closed inbox and redelivered after ack_wait (30 s here).
      expect(metricValue(await (await fetch(worker.metricsUrl!)).text(), 'logtriage_worker_redeliveries_total')).toBe(0);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await nc.close();
      await server.dispose();
    }
  }, 300_000);

  it('--swap-mode pause takes no batch while the swap runs, answers /ready 503, and the new model classifies what waited', async () => {
    const { served, other, labelsOf } = await twoModels('inproc');
    const [oldDigest, newDigest] = [...labelsOf.keys()];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const open = (path: string) => LogClassifier.open(path, { threads: 1, verify: false });
    const first = await open(served);
    const slot = new ModelSlot(first, { mode: 'pause', open: async (path) => (await held, open(path)) });
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const warnings: string[] = [];
    const worker = await JetStreamWorker.start(slot, { servers: [server.url], batchSize: 4, ackWaitMs: 2000 }, { onWarning: (m) => warnings.push(m) });
    const metrics = await serveWorkerMetrics(worker.metrics, () => worker.healthy, 0, '127.0.0.1', () => worker.notReady);
    const ready = async () => (await fetch(`http://127.0.0.1:${(metrics.address() as AddressInfo).port}/ready`)).status;
    try {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      const seqs: number[] = [];
      const publish = async (n: number) => {
        for (let i = 0; i < n; i++) seqs.push((await js.publish('logs.raw.test', `sshd[${seqs.length}]: Failed password for root from 203.0.113.${seqs.length % 250}`)).seq);
      };
      const outputs = async () => (await jsm.streams.info('LOGS_CLASSIFIED')).state.messages;
      await publish(20);
      await waitFor(async () => (await outputs()) === 20, 'the first 20 results', 60_000);
      expect(await ready()).toBe(200);
      const swap = slot.swap(other);
      await waitFor(async () => (await first.classify('x').then(() => false, () => true)), 'the old model freed', 30_000);
      await publish(20); // during the swap: no model to classify them; the fetch under way may bring some, held
      await new Promise((r) => setTimeout(r, 3_000)); // longer than ack_wait: nothing may be redelivered meanwhile
      expect(await ready()).toBe(503);
      expect(await outputs()).toBe(20);
      release();
      await swap;
      await waitFor(async () => (await outputs()) >= seqs.length, 'a result per input', 60_000);
      await waitFor(async () => (await jsm.consumers.info('LOGS', 'logtriage')).num_ack_pending === 0, 'every input acked', 30_000);
      expect(await ready()).toBe(200);
      const results = await readStream(nc, 'LOGS_CLASSIFIED', 'logs.classified');
      expect(results.map((r) => r.id).sort()).toEqual(seqs.map((s) => `LOGS:${s}`).sort());
      const bySeq = new Map(results.map((r) => [Number(r.id.split(':')[1]), r.body.logtriage.model as string]));
      expect(seqs.slice(0, 20).map((s) => bySeq.get(s))).toEqual(Array(20).fill(oldDigest));
      expect(seqs.slice(20).map((s) => bySeq.get(s))).toEqual(Array(20).fill(newDigest));
      expect(await readStream(nc, 'LOGS_CLASSIFIED', 'logs.dead')).toEqual([]);
      expect((await worker.metrics.redeliveries.get()).values[0]?.value ?? 0).toBe(0);
      expect(warnings).toEqual([]);
    } finally {
      release();
      metrics.close();
      await worker.stop();
      await slot.dispose();
      await nc.close();
      await server.dispose();
    }
  }, 120_000);
});
