// SPDX-License-Identifier: MIT
// Overload: 2,000 requests from 200 concurrent clients against a server that admits 8 at a
// time. Every request must end in a result equal to a direct classify() call or in a 429 with
// Retry-After and TEI's body: none lost, none hanging, nothing left in flight afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { tinyModel } from '../fixtures/index.js';
import { get, metricValue, post, sampleLines, startServer, type RunningServer } from './helpers.js';

const REQUESTS = 2000;
const CONCURRENCY = 200;
const TOL = 1e-5;
const lines = sampleLines(40);

let classifier: LogClassifier;
let server: RunningServer;
let expected: ClassificationResult[];

beforeAll(async () => {
  // The expectations come from a classifier of their own, so no cache can make them agree.
  const reference = await LogClassifier.open(tinyModel('f32'), { threads: 1 });
  expected = await reference.classifyMany(lines);
  await reference.dispose();
  classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1, maxQueuedLines: 64 });
  server = await startServer(classifier, { maxConcurrentRequests: 8 });
});

afterAll(async () => {
  await server?.app.close();
  await classifier?.dispose();
});

interface Outcome {
  status: number;
  ms: number;
}

describe('overload', () => {
  it(`answers ${REQUESTS} requests at concurrency ${CONCURRENCY} with a result or a 429, never a hang`, async () => {
    const outcomes: Outcome[] = new Array(REQUESTS);
    let next = 0;
    const started = performance.now();
    const client = async () => {
      while (next < REQUESTS) {
        const i = next++;
        // Singles and small batches, as TEI clients send them.
        const batch = i % 3 === 0 ? [i % lines.length, (i + 7) % lines.length, (i + 13) % lines.length] : [i % lines.length];
        const body = i % 3 === 0 ? { inputs: batch.map((j) => lines[j]) } : { inputs: lines[batch[0]!] };
        const t0 = performance.now();
        const res = await post(`${server.url}/predict`, body);
        outcomes[i] = { status: res.status, ms: performance.now() - t0 };
        if (res.status === 429) {
          expect(res.headers.get('retry-after')).toBe('1');
          expect(res.body).toEqual({ error: expect.stringMatching(/overloaded/i), error_type: 'overloaded' });
          continue;
        }
        expect(res.status, res.text).toBe(200);
        const perInput: Array<Array<{ label: string; score: number }>> = i % 3 === 0 ? res.body : [res.body];
        expect(perInput).toHaveLength(batch.length);
        perInput.forEach((predictions, k) => {
          const want = expected[batch[k]!]!;
          expect(predictions[0]!.label).toBe(want.label);
          for (const p of predictions) expect(Math.abs(p.score - want.scores[p.label]!)).toBeLessThanOrEqual(TOL);
        });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    const seconds = (performance.now() - started) / 1000;

    expect(outcomes.filter(Boolean)).toHaveLength(REQUESTS);
    const ok = outcomes.filter((o) => o.status === 200);
    const refused = outcomes.filter((o) => o.status === 429);
    expect(ok.length + refused.length).toBe(REQUESTS);
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    const p99 = (xs: Outcome[]) => xs.map((o) => o.ms).sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] ?? 0;
    // Figures for the record, not assertions.
    console.log(
      `overload: ${REQUESTS} requests in ${seconds.toFixed(1)} s: ${ok.length} answered (p99 ${p99(ok).toFixed(0)} ms), ` +
        `${refused.length} refused with 429 (p99 ${p99(refused).toFixed(0)} ms)`,
    );

    // The process is up, healthy, and nothing is left admitted or queued.
    expect((await get(`${server.url}/health`)).status).toBe(200);
    const metrics = (await get(`${server.url}/metrics`)).text;
    expect(metricValue(metrics, 'logtriage_requests_in_flight')).toBe(0);
    expect(metricValue(metrics, 'logtriage_lines_in_flight')).toBe(0);
    expect(metricValue(metrics, 'logtriage_http_requests_total', 'route="/predict",status="429"')).toBe(refused.length);
    expect(metricValue(metrics, 'logtriage_http_requests_total', 'route="/predict",status="200"')).toBe(ok.length);
  });

  it('answers 429 when the classifier queue is full, even with request slots free', async () => {
    // 100 new lines in one request pass maxQueuedLines 64: the library's OverloadedError is a 429 too.
    // (New: lines classified before may be answered from the classifier's cache, without queueing.)
    const wide = await startServer(classifier, { maxClientBatchSize: 100 });
    try {
      const res = await post(`${wide.url}/predict`, { inputs: Array.from({ length: 100 }, (_, i) => `${lines[i % lines.length]} #${i}`) });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body.error_type).toBe('overloaded');
    } finally {
      await wide.app.close();
    }
  });
});
