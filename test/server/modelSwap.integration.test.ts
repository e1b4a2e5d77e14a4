// SPDX-License-Identifier: MIT
// Swapping the served model without dropping anything: 50 clients classify while POST
// /admin/model swaps five times between two models with different heads (other label names);
// every request answers 200 and names the digest of the model whose labels it carries. Swaps to a
// missing file, a corrupted copy, or a model without a label --thresholds names leave the old
// model serving with a typed error in the answer.
import { copyFile, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LogClassifier, type OpenOptions } from '../../src/index.js';
import { ModelSlot } from '../../src/ModelSlot.js';
import { readGgufHeader } from '../../src/gguf/index.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { createServer } from '../../src/server/index.js';
import { tinyModel } from '../fixtures/index.js';
import { get, post, spawnServe, waitFor } from './helpers.js';

const KEY = 'swap-key';
const auth = { authorization: `Bearer ${KEY}` };
let dir: string;
let modelA: string;
let modelB: string;
const openModel = (path: string, options: OpenOptions = {}) => LogClassifier.open(path, { threads: 1, ...options });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-swap-'));
  vi.stubEnv('LOGTRIAGE_CACHE_DIR', join(dir, 'cache'));
  modelA = join(dir, 'a.gguf');
  modelB = join(dir, 'b.gguf');
  await copyFile(tinyModel('q8_0'), modelA);
  // Another head: the same weights under other label names, with a fresh digest (another id).
  await copyGguf(modelA, modelB, {
    editMetadata: (m) => {
      const labels = m.get('qwen2.classifier.output_labels')!;
      m.set('qwen2.classifier.output_labels', { ...labels, value: (labels.value as string[]).map((l) => `B${l}`) } as typeof labels);
    },
  });
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

/** A server whose models are opened with `open` (alertThresholds apply to every model swapped in: open() checks them). */
async function serve(options: Parameters<typeof createServer>[1] = {}, openOptions: OpenOptions = {}) {
  const openWith = (path: string) => openModel(path, openOptions);
  const slot = new ModelSlot(await openWith(modelA), { open: openWith });
  const app = createServer(slot, { logLevel: 'silent', apiKey: KEY, ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  return { slot, app, url: `http://127.0.0.1:${address.port}`, close: async () => (await app.close(), await slot.dispose()) };
}

describe('POST /admin/model', () => {
  it('swaps five times under 50 concurrent clients: every request 200, its digest matching its labels', async () => {
    const server = await serve();
    try {
      const labelsOf = new Map<string, string>([[server.slot.current.info.verification.model, server.slot.current.labels.join(',')]]);
      let swapping = true;
      const answers: Array<{ status: number; header: string | null; digest: string; labels: string }> = [];
      const client = async (n: number) => {
        while (swapping) {
          const res = await post(`${server.url}/v1/classify`, { input: [`sshd[${n}]: Failed password for root from 203.0.113.${n % 250}`] }, auth);
          answers.push({ status: res.status, header: res.headers.get('logtriage-model'), digest: res.body?.model_digest, labels: Object.keys(res.body?.data?.[0]?.scores ?? {}).sort().join(',') });
        }
      };
      const retired: LogClassifier[] = [];
      server.slot.onSwap((_next, previous) => retired.push(previous));
      const clients = Array.from({ length: 50 }, (_, n) => client(n));
      for (const path of [modelB, modelA, modelB, modelA, modelB]) {
        const swap = await post(`${server.url}/admin/model`, { path }, auth);
        expect(swap.status, swap.text).toBe(200);
        labelsOf.set(swap.body.model, swap.body.labels.join(','));
      }
      swapping = false;
      await Promise.all(clients);
      expect(server.slot.swaps).toBe(5);
      expect(labelsOf.size).toBe(2);
      expect(answers.length).toBeGreaterThan(50);
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      for (const a of answers) {
        expect(a.header).toBe(a.digest);
        expect(a.labels).toBe(labelsOf.get(a.digest)!.split(',').sort().join(','));
      }
      expect(new Set(answers.map((a) => a.digest)).size).toBe(2);
      // Each replaced model was disposed once its requests were answered (all 200 above: none was disposed under one).
      expect(retired).toHaveLength(5);
      await new Promise((r) => setTimeout(r, 100));
      for (const old of retired) await expect(old.classify('x')).rejects.toMatchObject({ name: 'DisposedError' });
      expect((await get(`${server.url}/ready`)).status).toBe(200);
      const metrics = await get(`${server.url}/metrics`, auth);
      expect(metrics.text).toContain(`logtriage_model_info{digest="${server.slot.current.info.verification.model}"`);
    } finally {
      await server.close();
    }
  });

  it('keeps the old model serving after a swap to a missing file, a corrupted copy, or labels --thresholds does not know', async () => {
    // A copy of the serving model (labels the thresholds know), so the integrity check is what refuses it.
    const corrupted = join(dir, 'corrupted.gguf');
    await copyFile(modelA, corrupted);
    const header = await readGgufHeader(corrupted);
    const fh = await open(corrupted, 'r+');
    await fh.write(Buffer.of(1, 2, 3, 4), 0, 4, header.dataOffset + header.tensors[4]!.offset + 16);
    await fh.close();
    const firstLabel = ((await readGgufHeader(modelA)).metadata.get('qwen2.classifier.output_labels')!.value as string[])[0]!;
    const server = await serve({}, { alertThresholds: { version: 1, calibration: 'none', thresholds: { [firstLabel]: 0.5 } } });
    try {
      const before = server.slot.current.info.verification.model;
      const cases: Array<[string, string]> = [
        [join(dir, 'missing.gguf'), 'ModelLoadError'],
        [corrupted, 'IntegrityError (ERR_INTEGRITY)'],
        [modelB, 'ValidationError'],
      ];
      for (const [path, error] of cases) {
        const swap = await post(`${server.url}/admin/model`, { path }, auth);
        expect(swap.status, path).toBe(422);
        expect(swap.body).toMatchObject({ error_type: 'validation', error: expect.stringContaining(error) });
        const after = await post(`${server.url}/v1/classify`, { input: ['kernel: Out of memory'] }, auth);
        expect(after.status).toBe(200);
        expect(after.body.model_digest).toBe(before);
      }
      expect(server.slot.swaps).toBe(0);
      expect((await post(`${server.url}/admin/model`, { path: modelB })).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('--swap-mode pause answers 503 with Retry-After while the swap runs, then serves the new model', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slot = new ModelSlot(await openModel(modelA), { mode: 'pause', open: async (path) => (await held, openModel(path)) });
    const app = createServer(slot, { logLevel: 'silent', apiKey: KEY });
    try {
      const swap = app.inject({ method: 'POST', url: '/admin/model', payload: { path: modelB }, headers: auth });
      await new Promise((r) => setTimeout(r, 200)); // the old model is drained and freed; the new one waits on `held`
      const during = await app.inject({ method: 'POST', url: '/v1/classify', payload: { input: ['kernel: panic'] }, headers: auth });
      expect(during.statusCode).toBe(503);
      expect(during.headers['retry-after']).toBeDefined();
      expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
      release();
      expect((await swap).statusCode).toBe(200);
      const after = await app.inject({ method: 'POST', url: '/v1/classify', payload: { input: ['kernel: panic'] }, headers: auth });
      expect(after.statusCode).toBe(200);
      expect(Object.keys(after.json().data[0].scores).every((l: string) => l.startsWith('B'))).toBe(true);
    } finally {
      release();
      await app.close();
      await slot.dispose();
    }
  });

  it('is refused on a server without an API key', async () => {
    const slot = new ModelSlot(await openModel(modelA), { open: openModel });
    const app = createServer(slot, { logLevel: 'silent' });
    try {
      const res = await app.inject({ method: 'POST', url: '/admin/model', payload: { path: modelB } });
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toContain('needs an API key');
      expect(slot.swaps).toBe(0);
    } finally {
      await app.close();
      await slot.dispose();
    }
  });
});

describe('logtriage serve on SIGHUP', () => {
  it('swaps to the file now at --model and names the new model on its answers', async () => {
    const served = join(dir, 'served.gguf');
    await copyFile(modelA, served);
    const serve = await spawnServe(['--model', served, '--threads', '1', '--port', '0'], { LOGTRIAGE_CACHE_DIR: join(dir, 'cache') });
    try {
      const before = await post(`${serve.url}/v1/classify`, { input: ['kernel: panic'] });
      expect(before.status).toBe(200);
      await copyFile(modelB, join(dir, 'next.gguf'));
      await rename(join(dir, 'next.gguf'), served);
      serve.child.kill('SIGHUP');
      await waitFor(
        async () => {
          const ready = await get(`${serve.url}/ready`);
          return ready.status === 200 && ready.body.model !== before.body.model_digest;
        },
        'the swap',
        60_000,
      );
      const after = await post(`${serve.url}/v1/classify`, { input: ['kernel: panic'] });
      expect(after.status).toBe(200);
      expect(after.headers.get('logtriage-model')).toBe(after.body.model_digest);
      expect(after.body.model_digest).not.toBe(before.body.model_digest);
      expect(Object.keys(after.body.data[0].scores).every((l) => l.startsWith('B'))).toBe(true);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  }, 120_000);
});
