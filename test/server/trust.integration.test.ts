// SPDX-License-Identifier: MIT
// Review flags and alert thresholds over HTTP: /v1/classify and /ingest carry `review` (and
// `alert` with thresholds), /metrics counts both, and thresholds naming an unknown label are refused.
// /predict (TEI) and POST / (HF Inference API) add them to each entry only when configured: the
// body parses with TEI's response types either way, and is exactly TEI's without them.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { textClassification } from '@huggingface/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { setCalibration } from '../../src/gguf/calibrationKeys.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { LogClassifier, ValidationError, type ClassificationResult, type PipelineEntry } from '../../src/index.js';
import { softmax } from '../../src/engine/scores.js';
import { createServer } from '../../src/server/index.js';
import { artifactsDir, tinyModel } from '../fixtures/index.js';
import { get, post, sampleLines, startServer, type RunningServer } from './helpers.js';

/**
 * TEI's `PredictResponse` as its router declares it (router/src/http/types.rs): an untagged enum of
 * `Vec<Prediction>` and `Vec<Vec<Prediction>>`, `Prediction {score: f32, label: String}`. serde
 * ignores unknown fields by default, so the object schemas are not strict, as a TEI client's are not.
 */
const teiPrediction = z.object({ score: z.number(), label: z.string() });
const teiSingle = z.array(teiPrediction);
const teiBatch = z.array(z.array(teiPrediction));

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

// After the /metrics counts above, which these requests would add to.
describe('TEI-shaped answers with review and alert thresholds', () => {
  it('/predict adds review and alert to every entry of an input, in a body that parses as TEI\'s', async () => {
    const expectedReview = direct.map((r) => r.score < minScore);
    const expectedAlert = direct.map((r) => r.label === alertLabel && r.score >= alertAt);
    const batch = await post(`${server.url}/predict`, { inputs: lines.map((l) => [l]) });
    expect(batch.status).toBe(200);
    const parsed = teiBatch.parse(batch.body);
    expect(parsed).toHaveLength(lines.length);
    parsed.forEach((entries, i) => {
      expect(entries).toHaveLength(classifier.labels.length);
      expect(entries[0]!.label).toBe(direct[i]!.label);
      entries.forEach((e) => expect(e.score).toBeCloseTo(direct[i]!.scores[e.label]!, 6));
    });
    const flags = (batch.body as Array<Array<{ review: boolean; alert: boolean }>>).map((entries) => {
      expect(new Set(entries.map((e) => `${e.review}/${e.alert}`)).size).toBe(1);
      return [entries[0]!.review, entries[0]!.alert];
    });
    expect(flags).toEqual(direct.map((_, i) => [expectedReview[i], expectedAlert[i]]));

    const single = await post(`${server.url}/predict`, { inputs: lines[0], raw_scores: true });
    expect(single.status).toBe(200);
    expect(teiSingle.parse(single.body)).toHaveLength(classifier.labels.length);
    expect(single.body[0]).toEqual({ score: Math.max(...direct[0]!.logits), label: direct[0]!.label, review: expectedReview[0], alert: expectedAlert[0] });
  });

  it('/info shows the review and alert thresholds and the calibration', async () => {
    const info = await get(`${server.url}/info`);
    expect(info.status).toBe(200);
    expect(info.body.logtriage).toMatchObject({ calibration: 'none', review: { minScore }, alert_thresholds: { [alertLabel]: alertAt } });
  });

  it('POST / carries them too, and @huggingface/inference still parses the answer', async () => {
    const output = (await textClassification({ endpointUrl: server.url, inputs: lines[0]! })) as Array<{ label: string; score: number; review?: boolean; alert?: boolean }>;
    expect(output).toHaveLength(classifier.labels.length);
    expect(output[0]).toMatchObject({ label: direct[0]!.label, review: direct[0]!.score < minScore, alert: direct[0]!.label === alertLabel && direct[0]!.score >= alertAt });
  });
});

describe('without review or alert thresholds, on a calibrated model', () => {
  let calibrated: LogClassifier;
  let plain: RunningServer;
  const temperature = 2;

  beforeAll(async () => {
    const dir = join(artifactsDir, 'server-trust');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'temperature.gguf');
    await copyGguf(tinyModel('f32'), path, {
      editMetadata: (m) => setCalibration(m, { calibration: { method: 'temperature', temperature }, lines: 100, nllBefore: 1, nllAfter: 0.5, eceBefore: 0.25, eceAfter: 0.125 }),
    });
    calibrated = await LogClassifier.open(path, { threads: 2 });
    plain = await startServer(calibrated);
  });
  afterAll(async () => {
    await plain?.app.close();
    await calibrated?.dispose();
  });

  it('/predict and POST / answer exactly TEI\'s fields, with the calibrated scores pipeline() gives', async () => {
    const [predict, hf] = await Promise.all([
      post(`${plain.url}/predict`, { inputs: lines }),
      post(`${plain.url}/`, { inputs: lines }),
    ]);
    expect(predict.status).toBe(200);
    expect(hf.status).toBe(200);
    for (const body of [predict.body, hf.body]) {
      const parsed = teiBatch.parse(body);
      expect(parsed).toHaveLength(lines.length);
      for (const entries of body as Array<Array<Record<string, unknown>>>) for (const e of entries) expect(Object.keys(e).sort()).toEqual(['label', 'score']);
      const expected = (await calibrated.pipeline(lines, { topK: null })) as PipelineEntry[][];
      parsed.forEach((entries, i) => {
        expect(entries.map((e) => e.label)).toEqual(expected[i]!.map((e) => e.label));
        entries.forEach((e, k) => expect(e.score).toBeCloseTo(expected[i]![k]!.score, 6));
      });
    }
    expect((await get(`${plain.url}/info`)).body.logtriage).toMatchObject({ calibration: 'temperature', review: null, alert_thresholds: null });
    // Calibrated means softmax(logits / T), not the raw softmax: checked on the most confident line.
    const tops = direct.map((r) => r.score);
    const i = tops.indexOf(Math.max(...tops));
    const raw = softmax(direct[i]!.logits);
    const scaled = softmax(direct[i]!.logits.map((z) => z / temperature));
    const top = (hf.body as Array<Array<{ score: number }>>)[i]![0]!.score;
    expect(top).toBeCloseTo(Math.max(...scaled), 5);
    expect(Math.abs(top - Math.max(...raw))).toBeGreaterThan(1e-3);
  });
});
