// SPDX-License-Identifier: MIT
// The worker's /metrics with a classifier that has the template tier, on a real nats-server: the
// tier's counters (named as the server's) equal the classifier's stats().templateTier once the
// stream is drained, and every published result says via and template_id, as many 'template' as
// the served counter. Without the tier the worker has none of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier } from '../../src/index.js';
import { JetStreamWorker } from '../../src/worker/index.js';
import { loghubDir, splitLogLines, tinyModel } from '../fixtures/index.js';
import { metricValue, waitFor } from '../server/helpers.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { readStream } from './readStream.js';

describe('JetStreamWorker /metrics with the template tier', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let lines: string[];

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    // Few templates, many lines each: most lines are served or audited.
    lines = ['Apache_2k.log', 'Proxifier_2k.log'].flatMap((f) => splitLogLines(readFileSync(join(loghubDir(), f), 'utf8')).filter((l) => l.trim()).slice(0, 40));
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  it('counts lines served by templates, audits, audited agreement and retired templates as the classifier does', async () => {
    await using classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1, templateTier: { audit: 0.3 } });
    const options = { servers: [server.url], stream: 'TIER', subjects: ['tier.in'], durable: 'd', outStream: 'TIER_OUT', outSubject: 'tier.out', deadLetterSubject: 'tier.dead', batchSize: 16 };
    const worker = await JetStreamWorker.start(classifier, options);
    try {
      const js = jetstream(nc);
      for (const line of lines) await js.publish('tier.in', line);
      // lines_out counts a result once published and its message acked.
      await waitFor(async () => metricValue(await worker.metrics.registry.metrics(), 'logtriage_worker_lines_out_total') === lines.length, 'every result published', 60_000);
      const text = await worker.metrics.registry.metrics();
      const tier = classifier.stats().templateTier!;
      expect(tier.lines).toBe(lines.length);
      // The set exercises every counter but retirement, which depends on the model's labels.
      expect(tier.servedByTemplate).toBeGreaterThan(0);
      expect(tier.audits).toBeGreaterThan(0);
      expect(metricValue(text, 'logtriage_template_tier_served_total')).toBe(tier.servedByTemplate);
      expect(metricValue(text, 'logtriage_template_tier_audits_total')).toBe(tier.audits);
      expect(metricValue(text, 'logtriage_template_tier_audit_agreements_total')).toBe(tier.agreements);
      expect(metricValue(text, 'logtriage_template_tier_retired_total')).toBe(tier.retired);
      expect(metricValue(text, 'logtriage_worker_lines_out_total')).toBe(lines.length);
      // Each published result says how it was classified; those served are as many as the counter says.
      const published = await readStream(nc, 'TIER_OUT', 'tier.out');
      expect(published).toHaveLength(lines.length);
      const annotations = published.map((m) => m.body.logtriage as { via?: string; template_id?: string });
      expect(annotations.every((a) => (a.via === 'model' || a.via === 'template') && typeof a.template_id === 'string')).toBe(true);
      expect(annotations.filter((a) => a.via === 'template')).toHaveLength(tier.servedByTemplate);
    } finally {
      await worker.stop();
    }
  });

  it('has no tier counters without the tier', async () => {
    await using classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1 });
    const worker = await JetStreamWorker.start(classifier, { servers: [server.url], stream: 'PLAIN', subjects: ['plain.in'], durable: 'd', outStream: 'PLAIN_OUT', outSubject: 'plain.out', deadLetterSubject: 'plain.dead' });
    try {
      expect(await worker.metrics.registry.metrics()).not.toContain('template_tier');
    } finally {
      await worker.stop();
    }
  });
});
