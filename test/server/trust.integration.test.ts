// SPDX-License-Identifier: MIT
// Review flags and alert thresholds over HTTP: /v1/classify and /ingest carry `review` (and
// `alert` with thresholds), /metrics counts both, and thresholds naming an unknown label are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, ValidationError, type ClassificationResult } from '../../src/index.js';
import { createServer } from '../../src/server/index.js';
import { tinyModel } from '../fixtures/index.js';
import { get, post, sampleLines, startServer, type RunningServer } from './helpers.js';

let classifier: LogClassifier;
let server: RunningServer;
let lines: string[];
let direct: ClassificationResult[];
let minScore: number;
let alertLabel: string;
let alertAt: number;

beforeAll(async () => {
  lines = sampleLines(12);
  const reference = await LogClassifier.open(tinyModel('f32'), { threads: 2 });
  try {
    direct = await reference.classifyMany(lines);
  } finally {
    await reference.dispose();
  }
  minScore = [...direct.map((r) => r.score)].sort((a, b) => a - b)[6]!;
  alertLabel = direct[0]!.label;
  alertAt = direct[0]!.score;
  classifier = await LogClassifier.open(tinyModel('f32'), { threads: 2, review: { minScore } });
  server = await startServer(classifier, { alertThresholds: { [alertLabel]: alertAt } });
});

afterAll(async () => {
  await server?.app.close();
  await classifier?.dispose();
});

describe('review and alert over HTTP', () => {
  it('/v1/classify and /ingest carry them, and /metrics counts them', async () => {
    const res = await post(`${server.url}/v1/classify`, { input: lines });
    expect(res.status).toBe(200);
    const expectedReview = direct.map((r) => r.score < minScore);
    const expectedAlert = direct.map((r) => r.label === alertLabel && r.score >= alertAt);
    expect(res.body.data.map((d: { review: boolean }) => d.review)).toEqual(expectedReview);
    expect(res.body.data.map((d: { alert: boolean }) => d.alert)).toEqual(expectedAlert);

    const ingest = await post(`${server.url}/ingest`, lines.map((message) => ({ message })));
    expect(ingest.status).toBe(200);
    expect(ingest.body.map((r: { logtriage: { review: boolean } }) => r.logtriage.review)).toEqual(expectedReview);

    const metrics = (await get(`${server.url}/metrics`)).text;
    const total = (name: string) =>
      [...metrics.matchAll(new RegExp(`^${name}\\{label="[^"]+"\\} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    expect(total('logtriage_review_total')).toBe(2 * expectedReview.filter(Boolean).length);
    expect(total('logtriage_alerts_total')).toBe(2 * expectedAlert.filter(Boolean).length);
    expect(expectedReview.filter(Boolean).length).toBeGreaterThan(0);
    expect(expectedAlert.filter(Boolean).length).toBeGreaterThan(0);
  });

  it('refuses alert thresholds for a label the model lacks, or out of range', () => {
    expect(() => createServer(classifier, { alertThresholds: { Catastrophic: 0.5 } })).toThrow(ValidationError);
    expect(() => createServer(classifier, { alertThresholds: { [alertLabel]: 1.5 } })).toThrow(/alertThresholds\..* but received 1.5/);
  });
});
