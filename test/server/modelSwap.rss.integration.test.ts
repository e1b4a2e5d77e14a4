// SPDX-License-Identifier: MIT
// A model swap gives its memory back: a real `serve` child on a ~107 MB F32 model (built here, seeded
// random weights, so one model's weights dominate the process) swaps 5 times under concurrent load;
// after each swap (POST /admin/model answers once the old model is disposed) its RSS is within a
// bound of the one-model RSS measured before the first swap, and its peak during each overlap swap
// shows both models held (so a swap that held on to the old model, or never held two, fails).
// `--swap-mode pause` holds one model: its peak stays near one model's.
//
// What is measured: VmRSS of the child, from /proc/<pid>/status, which is RssAnon + RssFile +
// RssShmem. llama.cpp maps an F32 file (nothing to repack) with MAP_POPULATE, so the weights are
// RssFile; the context (KV cache, compute buffers) and the JS heap are RssAnon. A leaked mapping
// shows in RssFile and a leaked copy or buffer in RssAnon, so the sum is the measure; both parts
// are reported on failure. The peak is VmHWM, reset before each swap through /proc/<pid>/clear_refs.
import { readFile, writeFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomCheckpoint } from '../../scripts/fixtures/make-random-checkpoint.js';
import { convertCheckpoint } from '../../src/convert/index.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { get, post, spawnServe, waitFor, type ServeChild } from './helpers.js';

const KEY = 'rss-key';
const auth = { authorization: `Bearer ${KEY}` };
let dir: string;
let modelA: string;
let modelB: string;
let modelBytes: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-swap-rss-'));
  const checkpoint = join(dir, 'checkpoint');
  await makeRandomCheckpoint(checkpoint, { shape: 'micro-vocab-100mb', dtype: 'f32', shards: 1, seed: 28 });
  modelA = join(dir, 'a.gguf');
  modelB = join(dir, 'b.gguf');
  await convertCheckpoint(checkpoint, modelA, { type: 'f32' });
  await rm(checkpoint, { recursive: true, force: true });
  // Another file (its own pages) with another head: the same weights under other label names.
  await copyGguf(modelA, modelB, {
    editMetadata: (m) => {
      const labels = m.get('qwen2.classifier.output_labels')!;
      m.set('qwen2.classifier.output_labels', { ...labels, value: (labels.value as string[]).map((l) => `B${l}`) } as typeof labels);
    },
  });
  modelBytes = (await stat(modelA)).size;
}, 300_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Memory {
  rss: number;
  anon: number;
  file: number;
  peak: number;
  /** The child's V8 heap (prom-client's nodejs_heap_size_total_bytes on /metrics), part of anon. */
  heap?: number;
}

/** The child's memory in bytes (/proc/<pid>/status). */
async function memory(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), peak: kb('VmHWM') };
}

/** Sets the child's peak RSS (VmHWM) to its current RSS. */
const resetPeak = (pid: number) => writeFile(`/proc/${pid}/clear_refs`, '5');
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const show = (m: Memory) => `rss ${mb(m.rss)} MiB (anon ${mb(m.anon)}, file ${mb(m.file)}${m.heap !== undefined ? `, of which V8 heap ${mb(m.heap)}` : ''}), peak ${mb(m.peak)} MiB`;

/** memory() with the V8 heap's size, read from the child's /metrics. */
async function memoryAndHeap(url: string, pid: number): Promise<Memory> {
  const metrics = await get(`${url}/metrics`, auth);
  const heap = Number(/^logtriage_nodejs_heap_size_total_bytes (\d+)/m.exec(metrics.text)?.[1]);
  return { ...(await memory(pid)), heap };
}

/** `clients` loops classifying on `serve` until stop(); resolves to every status seen. */
function load(url: string, clients: number) {
  let running = true;
  const statuses: number[] = [];
  const loops = Array.from({ length: clients }, async (_, n) => {
    while (running) {
      const res = await post(`${url}/v1/classify`, { input: [`sshd[${n}]: Failed password for root from 203.0.113.${n} port 22 ssh2`] }, auth);
      statuses.push(res.status);
    }
  });
  return {
    statuses,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
  };
}

async function startServe(mode: 'overlap' | 'pause'): Promise<ServeChild> {
  const serve = await spawnServe(['--model', modelA, '--threads', '1', '--api-key', KEY, '--swap-mode', mode, '--log-level', 'info'], { LOGTRIAGE_CACHE_DIR: join(dir, `cache-${mode}`) });
  await waitFor(async () => (await get(`${serve.url}/ready`)).status === 200, 'the first model ready', 120_000);
  return serve;
}

async function stopServe(serve: ServeChild): Promise<void> {
  serve.child.kill('SIGTERM');
  await serve.exited;
}

describe('serve: memory across model swaps', () => {
  it('overlap: RSS returns to one model after each of 5 swaps under load, and holds two during each', async () => {
    const serve = await startServe('overlap');
    const pid = serve.child.pid!;
    const traffic = load(serve.url, 8);
    try {
      await new Promise((r) => setTimeout(r, 2_000)); // the heap and the context at their working size
      const one = await memoryAndHeap(serve.url, pid);
      const rows: string[] = [`one model (${mb(modelBytes)} MiB file): ${show(one)}`];
      const swaps: Array<{ after: Memory; peak: number }> = [];
      for (const path of [modelB, modelA, modelB, modelA, modelB]) {
        await resetPeak(pid);
        const swap = await post(`${serve.url}/admin/model`, { path }, auth);
        expect(swap.status, swap.text).toBe(200); // answered once the old model is disposed
        const peak = (await memory(pid)).peak;
        await new Promise((r) => setTimeout(r, 500)); // the load goes on: RSS with the new model in use
        const after = await memoryAndHeap(serve.url, pid);
        swaps.push({ after, peak });
        rows.push(`after swap to ${path.endsWith('a.gguf') ? 'A' : 'B'}: ${show({ ...after, peak })}`);
      }
      const statuses = await traffic.stop();
      const report = rows.join('\n');
      expect(statuses.length, report).toBeGreaterThan(50);
      expect(statuses.filter((s) => s !== 200), report).toEqual([]);
      for (const { after, peak } of swaps) {
        // Both models were resident during the swap: the peak rose by most of a model.
        expect(peak - one.rss, report).toBeGreaterThan(0.6 * modelBytes);
        // And one model after it: within a quarter of a model of the one-model RSS (the JS heap under
        // load and the allocator's retained pages are the rest).
        expect(Math.abs(after.rss - one.rss), report).toBeLessThan(0.25 * modelBytes);
        expect(after.file - one.file, report).toBeLessThan(0.1 * modelBytes);
      }
      console.log(report);
    } finally {
      await traffic.stop();
      await stopServe(serve);
    }
  }, 300_000);

  it('pause: one model at a time, the peak stays near one model', async () => {
    const serve = await startServe('pause');
    const pid = serve.child.pid!;
    try {
      const one = await memory(pid);
      const rows: string[] = [`one model (${mb(modelBytes)} MiB file): ${show(one)}`];
      for (const path of [modelB, modelA]) {
        await resetPeak(pid);
        const swap = await post(`${serve.url}/admin/model`, { path }, auth);
        expect(swap.status, swap.text).toBe(200);
        const after = await memory(pid);
        rows.push(`after swap: ${show(after)}`);
        expect(after.peak - one.rss, rows.join('\n')).toBeLessThan(0.4 * modelBytes);
        expect(Math.abs(after.rss - one.rss), rows.join('\n')).toBeLessThan(0.25 * modelBytes);
      }
      console.log(rows.join('\n'));
    } finally {
      await stopServe(serve);
    }
  }, 300_000);
});
