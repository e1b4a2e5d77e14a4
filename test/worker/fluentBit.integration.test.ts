// SPDX-License-Identifier: MIT
// Fluent Bit's `nats` output framing on a real nats-server: one core-NATS message per flush,
// `[[timestamp, {tag, ...record}], ...]` (plugins/out_nats/nats.c). Each record gets its own
// result with Nats-Msg-Id `<stream>:<seq>:<index>`, a bad record is dead-lettered alone, and a
// redelivered flush whose first results were already published publishes nothing twice.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { JetStreamWorker, type DeadLetter } from '../../src/worker/index.js';
import { tinyModel } from '../fixtures/index.js';
import { sampleLines, waitFor } from '../server/helpers.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { readStream } from './readStream.js';

const TAG = 'logs.raw.fluentbit';

/** One Fluent Bit flush as its nats output writes it: the tag first in each record, the time as float seconds. */
const flush = (records: Array<Record<string, unknown>>, t0: number) => JSON.stringify(records.map((r, i) => [t0 + i / 4, { tag: TAG, ...r }]));

describe("JetStreamWorker with Fluent Bit's nats framing", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let classifier: LogClassifier;
  let lines: string[];
  let direct: ClassificationResult[];

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1 });
    lines = sampleLines(12);
    direct = await classifier.classifyMany(lines);
  });
  afterAll(async () => {
    await nc?.close();
    await classifier?.dispose();
    await server?.dispose();
  });

  it('classifies every record of every flush once, dead-letters a bad record alone, and stays exactly-once across a redelivery', async () => {
    const options = { servers: [server.url], input: 'json' as const, messageField: 'log', ackWaitMs: 1000, batchSize: 2 };
    await (await JetStreamWorker.start(classifier, options)).stop(); // the streams and the consumer
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    // Fluent Bit publishes with a plain PUB (no JetStream ack); the stream stores what its subjects capture.
    nc.publish(TAG, flush(lines.slice(7, 12).map((log, i) => ({ log, host: `h${i}` })), 1_700_000_200));
    nc.publish(TAG, flush(lines.slice(0, 4).map((log) => ({ log })), 1_700_000_000));
    nc.publish(TAG, flush([{ log: lines[4] }, { log: '   ' }, { log: lines[5] }, { nolog: 1 }, { log: lines[6] }], 1_700_000_100));
    await nc.flush();
    await waitFor(async () => (await jsm.streams.info('LOGS')).state.messages === 3, 'three flushes stored');
    const [third, first, second] = [1, 2, 3];
    // A worker that took the flush of lines 7-11 and died after publishing its first two results, before the ack.
    const taken = await (await js.consumers.get('LOGS', 'logtriage')).next({ expires: 5000 });
    expect(taken?.seq).toBe(third);
    const early = new Map<string, string>();
    for (const index of [0, 1]) {
      const h = headers();
      h.set('Logtriage-Source-Seq', String(third));
      const body = JSON.stringify({ early: index });
      await js.publish('logs.classified', body, { msgID: `LOGS:${third}:${index}`, headers: h });
      early.set(`LOGS:${third}:${index}`, body);
    }

    const worker = await JetStreamWorker.start(classifier, options);
    try {
      const goodCount = 4 + 3 + 5;
      await waitFor(async () => (await jsm.consumers.info('LOGS', 'logtriage')).num_ack_pending === 0 && (await jsm.consumers.info('LOGS', 'logtriage')).num_pending === 0, 'every flush acked', 60_000);
      const results = await readStream(nc, 'LOGS_CLASSIFIED', 'logs.classified');
      expect(results).toHaveLength(goodCount);
      expect(new Set(results.map((r) => r.id)).size).toBe(goodCount);
      // The results published before the "crash" were kept; the redelivery did not add its own.
      for (const [id, body] of early) expect(JSON.stringify(results.find((r) => r.id === id)!.body)).toBe(body);
      const expectedIds: Array<[string, number, number]> = [
        ...[0, 1, 2, 3].map((i): [string, number, number] => [`LOGS:${first}:${i}`, i, 1_700_000_000 + i / 4]),
        [`LOGS:${second}:0`, 4, 1_700_000_100],
        [`LOGS:${second}:2`, 5, 1_700_000_100.5],
        [`LOGS:${second}:4`, 6, 1_700_000_101],
        ...[2, 3, 4].map((i): [string, number, number] => [`LOGS:${third}:${i}`, 7 + i, 1_700_000_200 + i / 4]),
      ];
      for (const [id, line, date] of expectedIds) {
        const r = results.find((x) => x.id === id);
        expect(r, id).toBeDefined();
        expect(r!.headers['Logtriage-Source-Index']).toBe(id.split(':')[2]);
        expect(r!.body).toMatchObject({ tag: TAG, log: lines[line], date });
        expect(r!.body.logtriage.label).toBe(direct[line]!.label);
        expect(r!.body.logtriage.score).toBeCloseTo(direct[line]!.score, 4);
      }
      const dead = await readStream(nc, 'LOGS_CLASSIFIED', 'logs.dead');
      expect(dead.map((d) => d.id).sort()).toEqual([`LOGS:${second}:1`, `LOGS:${second}:3`]);
      for (const d of dead) {
        const letter = d.body as DeadLetter;
        expect(letter.error.code).toBe('ERR_MESSAGE_FORMAT');
        expect(letter.seq).toBe(second);
        expect(JSON.parse(letter.data!)).toEqual(JSON.parse(flush([{ log: lines[4] }, { log: '   ' }, { log: lines[5] }, { nolog: 1 }, { log: lines[6] }], 1_700_000_100))[letter.index!]);
      }
      const metrics = await worker.metrics.registry.metrics();
      expect(metrics).toMatch(/logtriage_worker_dead_lettered_total\{code="ERR_MESSAGE_FORMAT"\} 2/);
      expect(metrics).toMatch(/logtriage_worker_redeliveries_total 1\n/);
    } finally {
      await worker.stop();
    }
  }, 120_000);
});
