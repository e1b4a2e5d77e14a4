// SPDX-License-Identifier: MIT
// A model whose head `logtriage adapt --new-labels` replaced (the ten loghub source systems, none of
// them a label of the base model) served by `logtriage serve` and run by `logtriage worker` on a
// real nats-server: /info, /v1/classify, /ingest and the worker's results carry the new labels, and
// each line's label and score equal the library's classifyMany with that model. Few lines: the
// point is that the label set travels, not throughput.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { buildSystemsModel, type SystemsModel } from '../fixtures/systemsModel.js';
import { readModelMeta } from '../../src/gguf/readModelMeta.js';
import { tinyModel } from '../fixtures/index.js';
import { get, post, sampleLines, spawnServe, waitFor, type ServeChild } from '../server/helpers.js';
import { startNatsServer } from '../worker/natsServer.js';
import { readStream } from '../worker/readStream.js';
import { spawnWorker } from '../worker/spawnWorker.js';

const TEST_MS = 300_000;
let model: SystemsModel;
let baseLabels: string[];
// One line of each loghub system (sampleLines takes them in file order).
const lines = sampleLines(10);
let direct: ClassificationResult[];

beforeAll(async () => {
  model = await buildSystemsModel('adapted-model');
  baseLabels = (await readModelMeta(tinyModel('f32'))).labels;
  await using clf = await LogClassifier.open(model.path, { threads: 1 });
  direct = await clf.classifyMany(lines);
}, TEST_MS);

describe('a model with a new label set (adapt --new-labels)', () => {
  it('has labels the base model lacks, and classifies with them', () => {
    expect(model.labels).toEqual(['Apache', 'BGL', 'HDFS', 'HPC', 'Hadoop', 'HealthApp', 'Linux', 'OpenSSH', 'Proxifier', 'Zookeeper']);
    expect(model.labels.filter((l) => baseLabels.includes(l))).toEqual([]);
    expect(lines).toHaveLength(10);
    for (const r of direct) expect(Object.keys(r.scores).sort()).toEqual([...model.labels].sort());
    // A head fitted on these systems tells several of them apart, not one label for all.
    expect(new Set(direct.map((r) => r.label)).size).toBeGreaterThan(1);
  });

  describe('logtriage serve', () => {
    let serve: ServeChild;
    beforeAll(async () => {
      serve = await spawnServe(['--model', model.path, '--threads', '1']);
    }, TEST_MS);
    afterAll(async () => {
      serve?.child.kill('SIGTERM');
      await serve?.exited;
    });

    it('/info lists the new labels; /v1/classify and /ingest answer with them, as classifyMany does', async () => {
      const info = await get(`${serve.url}/info`);
      expect(info.status).toBe(200);
      expect(info.body.model_type.classifier.id2label).toEqual(Object.fromEntries(model.labels.map((l, i) => [String(i), l])));

      const classify = await post(`${serve.url}/v1/classify`, { input: lines });
      expect(classify.status, classify.text).toBe(200);
      expect(classify.body.data).toHaveLength(lines.length);
      classify.body.data.forEach((d: { label: string; score: number; scores: Record<string, number> }, i: number) => {
        expect(d.label).toBe(direct[i]!.label);
        expect(d.score).toBeCloseTo(direct[i]!.score, 4);
        expect(Object.keys(d.scores).sort()).toEqual([...model.labels].sort());
      });

      const ingest = await post(`${serve.url}/ingest`, lines.map((message, i) => ({ message, n: i })));
      expect(ingest.status, ingest.text).toBe(200);
      expect(ingest.body.map((r: { n: number; logtriage: { label: string } }) => [r.n, r.logtriage.label])).toEqual(direct.map((d, i) => [i, d.label]));
      ingest.body.forEach((r: { logtriage: { score: number } }, i: number) => expect(r.logtriage.score).toBeCloseTo(direct[i]!.score, 4));
    }, TEST_MS);
  });

  it('logtriage worker on JetStream publishes results with the new labels, as classifyMany does', async () => {
    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const worker = await spawnWorker(['--servers', server.url, '--model', model.path, '--threads', '1', '--batch-size', '8']);
    try {
      const js = jetstream(nc);
      const seqs: number[] = [];
      for (const line of lines) seqs.push((await js.publish('logs.raw.test', line)).seq);
      const jsm = await jetstreamManager(nc);
      await waitFor(async () => (await jsm.streams.info('LOGS_CLASSIFIED')).state.messages >= lines.length, 'a result per line', 120_000);
      const results = await readStream(nc, 'LOGS_CLASSIFIED', 'logs.classified');
      expect(results).toHaveLength(lines.length);
      const byId = new Map(results.map((r) => [r.id, r.body]));
      seqs.forEach((seq, i) => {
        const body = byId.get(`LOGS:${seq}`);
        expect(body?.message).toBe(lines[i]);
        expect(body.logtriage.label).toBe(direct[i]!.label);
        expect(body.logtriage.score).toBeCloseTo(direct[i]!.score, 4);
      });
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await nc.close();
      await server.dispose();
    }
  }, TEST_MS);
});
