// SPDX-License-Identifier: MIT
// Which model answered: every serve answer carries the Logtriage-Model header (the digest of the
// weights, 12 hex characters), /v1/classify its model_digest, /ingest records logtriage.model,
// /info model_sha, and /metrics the model info metric. The digest is computed here from the file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LogClassifier } from '../../src/index.js';
import { readGgufHeader } from '../../src/gguf/index.js';
import { modelDigestId, readStoredDigest } from '../../src/gguf/contentDigest.js';
import { tinyModel } from '../fixtures/index.js';
import { get, post, startServer, type RunningServer } from './helpers.js';

let dir: string;
let classifier: LogClassifier;
let server: RunningServer;
let digest: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-model-digest-'));
  vi.stubEnv('LOGTRIAGE_CACHE_DIR', dir);
  const header = await readGgufHeader(tinyModel('q8_0'));
  digest = modelDigestId(readStoredDigest(header.metadata, header.tensors.length)!).slice(0, 12);
  classifier = await LogClassifier.open(tinyModel('q8_0'), { threads: 1 });
  server = await startServer(classifier, { logLevel: 'silent' });
});
afterAll(async () => {
  await server?.app.close();
  await classifier?.dispose();
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

describe('serve names the model on every answer', () => {
  it('sets Logtriage-Model on classify, status, metrics and error answers', async () => {
    expect(digest).toMatch(/^[0-9a-f]{12}$/);
    const answers = await Promise.all([
      post(`${server.url}/v1/classify`, { input: ['sshd[1]: Failed password for root from 203.0.113.9'] }),
      post(`${server.url}/predict`, { inputs: 'kernel: Out of memory' }),
      post(`${server.url}/ingest`, [{ message: 'CRON[2]: session opened for user root' }]),
      get(`${server.url}/health`),
      get(`${server.url}/info`),
      get(`${server.url}/nowhere`),
      post(`${server.url}/v1/classify`, { input: [] }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 404, expect.any(Number)]);
    for (const a of answers) expect(a.headers.get('logtriage-model')).toBe(digest);
    const [classify, , ingest, , info] = answers;
    expect(classify!.body.model_digest).toBe(digest);
    expect(ingest!.body[0].logtriage.model).toBe(digest);
    expect(info!.body.model_sha.slice(0, 12)).toBe(digest);
    expect(info!.body.logtriage).toMatchObject({ model_digest: digest, verification: 'verified' });
  });

  it('answers GET /ready 200 once warm, without the API key that every other route needs', async () => {
    const locked = await startServer(classifier, { logLevel: 'silent', apiKey: 'k' });
    try {
      let ready = await get(`${locked.url}/ready`);
      for (let i = 0; i < 100 && ready.status !== 200; i++) {
        expect(ready.body).toMatchObject({ error_type: 'unhealthy', error: 'the model is warming up' });
        await new Promise((r) => setTimeout(r, 50));
        ready = await get(`${locked.url}/ready`);
      }
      expect(ready).toMatchObject({ status: 200, body: { status: 'ready', model: digest } });
      expect((await get(`${locked.url}/info`)).status).toBe(401);
    } finally {
      await locked.app.close();
    }
  });

  it('exports the model info metric with its digest, labels and weight type', async () => {
    const metrics = await get(`${server.url}/metrics`);
    const line = metrics.text.split('\n').find((l) => l.startsWith('logtriage_model_info{'));
    expect(line).toBe(`logtriage_model_info{digest="${digest}",labels="${classifier.labels.join(',')}",weight_type="Q8_0",verification="verified"} 1`);
  });
});
