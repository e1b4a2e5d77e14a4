// SPDX-License-Identifier: MIT
// Poison input and setup refusals on a real nats-server: each poison message lands on the
// dead-letter subject with its typed error and is acked, and the good messages around it go on.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerError, ValidationError } from '../../src/errors.js';
import { LogClassifier } from '../../src/index.js';
import { JetStreamWorker, type DeadLetter } from '../../src/worker/index.js';
import { tinyModel } from '../fixtures/index.js';
import { waitFor } from '../server/helpers.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { readStream } from './readStream.js';

const MAX_TOKENS = 32;

describe('JetStreamWorker with poison input', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let classifier: LogClassifier;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1, maxTokens: MAX_TOKENS, truncation: 'error' });
  });
  afterAll(async () => {
    await nc?.close();
    await classifier?.dispose();
    await server?.dispose();
  });

  it('dead-letters each poison message with its error code, acks it, and classifies the rest', async () => {
    const options = { servers: [server.url], input: 'json' as const, messageField: 'log', maxDeliver: 1, ackWaitMs: 1000, batchSize: 8 };
    // Set up the streams and the consumer, then leave them idle.
    await (await JetStreamWorker.start(classifier, options)).stop();
    const js = jetstream(nc);
    const publish = async (data: string | Uint8Array) => (await js.publish('logs.raw.app', data)).seq;
    // Delivered once and never acked (a worker that died on it): its next delivery exceeds max-deliver 1.
    const crashed = await publish(JSON.stringify({ log: 'the line a worker died on' }));
    const taken = await (await js.consumers.get('LOGS', 'logtriage')).next({ expires: 5000 });
    expect(taken?.seq).toBe(crashed);
    const expected = new Map<number, string>([[crashed, 'ERR_MAX_DELIVER']]);
    const good = ['sshd[1]: Accepted publickey for alice', 'kernel: eth0 link up', 'cron[9]: job started'];
    const goodSeqs: number[] = [];
    goodSeqs.push(await publish(JSON.stringify({ log: good[0], host: 'a' })));
    expected.set(await publish(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'ERR_MESSAGE_FORMAT');
    expected.set(await publish('not json at all'), 'ERR_MESSAGE_FORMAT');
    expected.set(await publish('[]'), 'ERR_MESSAGE_FORMAT');
    expected.set(await publish(JSON.stringify({ message: 'wrong field' })), 'ERR_MESSAGE_FORMAT');
    expected.set(await publish(JSON.stringify({ log: '   ' })), 'ERR_MESSAGE_FORMAT');
    goodSeqs.push(await publish(JSON.stringify({ log: good[1], host: 'b' })));
    expected.set(await publish(JSON.stringify({ log: Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ') })), 'ERR_INPUT_TOO_LONG');
    goodSeqs.push(await publish(JSON.stringify({ log: good[2], host: 'c' })));

    const worker = await JetStreamWorker.start(classifier, options);
    try {
      const jsm = await jetstreamManager(nc);
      await waitFor(async () => (await jsm.streams.info('LOGS_CLASSIFIED')).state.messages >= expected.size + good.length, 'every outcome', 60_000);
      await waitFor(async () => (await jsm.consumers.info('LOGS', 'logtriage')).num_ack_pending === 0, 'every input acked', 30_000);
      const dead = await readStream(nc, 'LOGS_CLASSIFIED', 'logs.dead');
      expect(dead).toHaveLength(expected.size);
      for (const d of dead) {
        const letter = d.body as DeadLetter;
        expect(d.id).toBe(`LOGS:${letter.seq}`);
        expect(letter.error.code).toBe(expected.get(letter.seq));
        expect(d.headers['Logtriage-Error-Code']).toBe(letter.error.code);
        expect(letter.error.message.length).toBeGreaterThan(0);
      }
      const invalidUtf8 = dead.find((d) => d.body.data_base64 !== undefined);
      expect(Buffer.from(invalidUtf8!.body.data_base64, 'base64')).toEqual(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
      expect(dead.find((d) => d.body.error.code === 'ERR_MAX_DELIVER')!.body.deliveries).toBe(2);
      const results = await readStream(nc, 'LOGS_CLASSIFIED', 'logs.classified');
      expect(results.map((r) => r.id)).toEqual(goodSeqs.map((s) => `LOGS:${s}`));
      expect(results.map((r) => [r.body.log, r.body.host])).toEqual([
        [good[0], 'a'],
        [good[1], 'b'],
        [good[2], 'c'],
      ]);
      for (const r of results) expect(classifier.labels).toContain(r.body.logtriage.label);
      const metrics = await worker.metrics.registry.metrics();
      expect(metrics).toMatch(/logtriage_worker_dead_lettered_total\{code="ERR_MESSAGE_FORMAT"\} 5/);
      expect(metrics).toMatch(/logtriage_worker_consumer_pending 0/);
    } finally {
      await worker.stop();
    }
  });

  it('dead-letters a record nested 5,000 levels deep alone, with its real cause, on its first delivery; the metrics count unique results', async () => {
    const options = { servers: [server.url], stream: 'DEEP', subjects: ['deep.raw.>'], durable: 'deep', outStream: 'DEEP_OUT', outSubject: 'deep.classified', deadLetterSubject: 'deep.dead', input: 'json' as const, messageField: 'log', maxDeliver: 3, ackWaitMs: 1000, batchSize: 16 };
    await (await JetStreamWorker.start(classifier, options)).stop();
    const js = jetstream(nc);
    const good = Array.from({ length: 8 }, (_, i) => `app[${i}]: request ${i} served in ${i + 3} ms`);
    const deep = `{"log":"deep one",${'"a":{'.repeat(5000)}"x":1${'}'.repeat(5000)}}`;
    const deepInArray = `[[1718020800.5,{"log":"ok in array"}],[1718020800.6,${deep}]]`;
    const goodSeqs: number[] = [];
    for (const [i, line] of good.entries()) {
      goodSeqs.push((await js.publish('deep.raw.app', JSON.stringify({ log: line }))).seq);
      if (i === 3) await js.publish('deep.raw.app', deep);
    }
    await js.publish('deep.raw.app', deepInArray);
    const worker = await JetStreamWorker.start(classifier, options);
    try {
      const jsm = await jetstreamManager(nc);
      // 8 results, the array's good entry, and two dead letters.
      await waitFor(async () => (await jsm.streams.info('DEEP_OUT')).state.messages >= 11, 'every outcome', 60_000);
      await waitFor(async () => (await jsm.consumers.info('DEEP', 'deep')).num_ack_pending === 0, 'every input acked', 30_000);
      const dead = await readStream(nc, 'DEEP_OUT', 'deep.dead');
      expect(dead).toHaveLength(2);
      for (const d of dead) {
        const letter = d.body as DeadLetter;
        expect(letter.error.code).toBe('ERR_MESSAGE_FORMAT');
        expect(letter.error.message).toMatch(/nested deeper than 100 levels/);
        expect(letter.deliveries).toBe(1);
      }
      expect(dead.map((d) => (d.body as DeadLetter).index ?? 'whole message').sort()).toEqual([1, 'whole message']);
      const results = await readStream(nc, 'DEEP_OUT', 'deep.classified');
      // Two batches run at once: results are published in the order they finish, not the input's.
      expect(results.map((r) => r.body.log).sort()).toEqual([...good, 'ok in array'].sort());
      expect(results.filter((r) => !String(r.id).match(/:\d+:\d+$/)).map((r) => r.id).sort()).toEqual(goodSeqs.map((s) => `DEEP:${s}`).sort());
      const metrics = await worker.metrics.registry.metrics();
      expect(metrics).toMatch(/logtriage_worker_lines_out_total 9\n/);
      expect(metrics).toMatch(/logtriage_worker_dead_lettered_total\{code="ERR_MESSAGE_FORMAT"\} 2\n/);
      expect(metrics).toMatch(/logtriage_worker_redeliveries_total 0\n/);
    } finally {
      await worker.stop();
    }
  });

  it('refuses an output subject that the input stream captures, and missing streams with create off', async () => {
    const servers = [server.url];
    await expect(JetStreamWorker.start(classifier, { servers, stream: 'LOOP1', durable: 'd', outSubject: 'logs.raw.out' })).rejects.toThrow(ValidationError);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'WIDE', subjects: ['wide.>'] });
    const refusal = JetStreamWorker.start(classifier, { servers, stream: 'WIDE', subjects: ['other.>'], outStream: 'WIDE_OUT', outSubject: 'wide.classified', deadLetterSubject: 'wide_dead' });
    await expect(refusal).rejects.toThrow(/captured by input stream WIDE \('wide\.>'\)/);
    await expect(JetStreamWorker.start(classifier, { servers, stream: 'ABSENT', create: false })).rejects.toThrow(BrokerError);
    expect((await jsm.streams.names().next()).sort()).not.toContain('ABSENT');
  });
});
