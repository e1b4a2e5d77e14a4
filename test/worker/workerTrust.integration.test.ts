// SPDX-License-Identifier: MIT
// `logtriage worker --thresholds --review-min-score` on a real nats-server: each result carries
// `review` and `alert` exactly as the direct classification and the thresholds say, ECS
// `event.kind` is 'alert' exactly for alerts, and /metrics counts both by label.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THRESHOLDS_FILE_VERSION } from '../../src/options.js';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { tinyModel } from '../fixtures/index.js';
import { metricValue, sampleLines, waitFor } from '../server/helpers.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { readStream } from './readStream.js';
import { spawnWorker } from './spawnWorker.js';

const MODEL = tinyModel('f32');
const LINES = 120;

/**
 * A threshold near the middle of `values` that sits in a gap wider than 1e-3: the worker's batches
 * differ from classifyMany()'s, which moves scores within float noise (F32 holds logits to 1e-4),
 * so a threshold equal to one line's score would decide that line by noise.
 */
function splitPoint(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  for (let d = 0; d < sorted.length; d++) {
    for (const i of [mid + d, mid - d]) {
      if (i >= 1 && i < sorted.length && sorted[i]! - sorted[i - 1]! > 1e-3) return (sorted[i]! + sorted[i - 1]!) / 2;
    }
  }
  throw new Error('no gap wider than 1e-3 among the scores');
}

describe('logtriage worker with alert thresholds and review flags', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let dir: string;
  let lines: string[];
  let direct: ClassificationResult[];
  let alertLabel: string;
  let threshold: number;
  let minScore: number;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    dir = mkdtempSync(join(tmpdir(), 'logtriage-worker-trust-'));
    lines = sampleLines(LINES);
    await using classifier = await LogClassifier.open(MODEL, { threads: 1 });
    direct = await classifier.classifyMany(lines);
    // Thresholds in the middle of the scores, so both sides of each are exercised.
    const counts = new Map<string, number>();
    for (const r of direct) counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
    alertLabel = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    threshold = splitPoint(direct.filter((r) => r.label === alertLabel).map((r) => r.score));
    minScore = splitPoint(direct.map((r) => r.score));
    writeFileSync(
      join(dir, 'alerts.json'),
      JSON.stringify({ version: THRESHOLDS_FILE_VERSION, calibration: classifier.info.calibration?.method ?? 'none', thresholds: { [alertLabel]: threshold } }),
    );
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const ecs of [false, true]) {
    it(`marks review and alert on every result${ecs ? ' (ECS: event.kind alert exactly for alerts)' : ''}, and counts them in /metrics`, async () => {
      const stream = ecs ? 'TRUST_ECS' : 'TRUST';
      const args = [
        '--servers', server.url, '--model', MODEL, '--threads', '1', '--metrics-port', '0',
        '--stream', stream, '--subjects', `${stream}.in`, '--durable', 'd', '--out-stream', `${stream}_OUT`,
        '--out-subject', `${stream}.out`, '--dead-letter-subject', `${stream}.dead`,
        '--thresholds', join(dir, 'alerts.json'), '--review-min-score', String(minScore), ...(ecs ? ['--ecs'] : []),
      ];
      const worker = await spawnWorker(args);
      try {
        const js = jetstream(nc);
        const seqs: number[] = [];
        for (const line of lines) seqs.push((await js.publish(`${stream}.in`, line)).seq);
        const jsm = await jetstreamManager(nc);
        await waitFor(async () => (await jsm.streams.info(`${stream}_OUT`)).state.messages >= LINES, 'every result', 120_000);
        const results = await readStream(nc, `${stream}_OUT`, `${stream}.out`);
        expect(results).toHaveLength(LINES);
        const byId = new Map(results.map((r) => [r.id, r.body]));
        let alerts = 0;
        let reviews = 0;
        seqs.forEach((seq, i) => {
          const body = byId.get(`${stream}:${seq}`);
          const want = direct[i]!;
          expect(body.logtriage.label).toBe(want.label);
          expect(Math.abs(body.logtriage.score - want.score)).toBeLessThan(1e-4);
          const alert = want.label === alertLabel && want.score >= threshold;
          const review = want.score < minScore;
          expect(body.logtriage.alert).toBe(alert);
          expect(body.logtriage.review).toBe(review);
          if (ecs) expect(body.event.kind).toBe(alert ? 'alert' : 'event');
          if (alert) alerts++;
          if (review) reviews++;
        });
        expect(alerts).toBeGreaterThan(0);
        expect(alerts).toBeLessThan(LINES);
        expect(reviews).toBeGreaterThan(0);
        expect(reviews).toBeLessThan(LINES);
        const metrics = await (await fetch(worker.metricsUrl!)).text();
        expect(metricValue(metrics, 'logtriage_worker_alerts_total', `label="${alertLabel}"`)).toBe(alerts);
        const reviewLines = metrics.split('\n').filter((l) => l.startsWith('logtriage_worker_review_total{'));
        expect(reviewLines.length).toBeGreaterThan(1);
        expect(reviewLines.reduce((n, l) => n + Number(l.split(' ').pop()), 0)).toBe(reviews);
        worker.child.kill('SIGTERM');
        expect(await worker.exited).toEqual({ code: 0, signal: null });
      } finally {
        worker.child.kill('SIGKILL');
      }
    }, 180_000);
  }
});
