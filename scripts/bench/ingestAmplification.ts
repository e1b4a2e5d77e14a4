// SPDX-License-Identifier: MIT
// Issue 29's amplification target, measured: three concurrent 2 MB NDJSON bodies of empty records
// ({} lines, no message) sent to /ingest, while /health is asked every 20 ms. Reports idle and
// peak RSS (sampled every 10 ms, and the kernel's maxRSS) and the slowest /health answer, once
// with the default records-per-request cap and once with the cap above the body's record count
// (what each record costs when it is admitted), then the same with a 2 MB JSON array of `{}` and
// with NDJSON alternating `{}` and `1` lines (skipped and rejected in turn: no two alike in a row).
// Runs in one process: server and clients share it, so the /health figure includes the clients'
// own work. The clients read each answer as a stream, counting its bytes: an answer held whole by
// the client (the `-held` row, as this script did before) is the client's memory, not the server's
// (three 53 MB answers of an alternating body, and their decoding, on the same event loop).
// Per row also: peak heap and off-heap (external) growth, and the longest GC pause, to tell where
// memory and stalls go.
//   node --expose-gc --import tsx scripts/bench/ingestAmplification.ts [model.gguf]   (default: the tests' tiny F32 model)
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { LogClassifier } from '../../src/index.js';
import { createServer } from '../../src/server/index.js';

const model = process.argv[2] ?? 'test-artifacts/models/qwen2-tiny-f32.gguf';
const SIZE = 2 * 2 ** 20;
const BODIES = {
  ndjson: { text: '{}\n'.repeat(Math.floor(SIZE / 3)), type: 'application/x-ndjson', records: Math.floor(SIZE / 3) },
  array: { text: `[${Array(Math.floor(SIZE / 3)).fill('{}').join(',')}]`, type: 'application/json', records: Math.floor(SIZE / 3) },
  alternating: { text: '{}\n1\n'.repeat(Math.floor(SIZE / 5)), type: 'application/x-ndjson', records: 2 * Math.floor(SIZE / 5) },
};
type BodyKind = keyof typeof BODIES;
const MiB = (b: number) => Number((b / 2 ** 20).toFixed(1));

/** Sends one body; the answer is counted as it arrives (`stream`) or held whole first (`held`). */
async function send(url: string, body: { text: string; type: string }, client: 'stream' | 'held'): Promise<{ status: number | string; bytes: number }> {
  // A failed request (the server closed the socket: the write timeout) is a result, not a crash.
  try {
    const res = await fetch(`${url}/ingest`, { method: 'POST', body: body.text, headers: { 'content-type': body.type } });
    if (client === 'held') return { status: res.status, bytes: (await res.text()).length };
    let bytes = 0;
    for await (const chunk of res.body!) bytes += (chunk as Uint8Array).byteLength;
    return { status: res.status, bytes };
  } catch (err) {
    return { status: String((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message), bytes: 0 };
  }
}

async function run(clf: LogClassifier, maxIngestRecords: number | undefined, kind: BodyKind = 'ndjson', client: 'stream' | 'held' = 'stream') {
  const body = BODIES[kind];
  const app = createServer(clf, { payloadLimit: 8 * 2 ** 20, ...(maxIngestRecords ? { maxIngestRecords } : {}) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  // A connection and a warm route before the clock starts: the first fetch pays for both.
  for (let i = 0; i < 5; i++) await (await fetch(`${url}/health`)).text();
  global.gc?.();
  const idleMemory = process.memoryUsage();
  const idle = idleMemory.rss;
  let peak = idle;
  let peakHeap = idleMemory.heapUsed;
  let peakExternal = idleMemory.external;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakExternal = Math.max(peakExternal, m.external);
  }, 10);
  const gc = { longestMs: 0, totalMs: 0, count: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.longestMs = Math.max(gc.longestMs, entry.duration);
      gc.totalMs += entry.duration;
      gc.count++;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  let slowestHealth = 0;
  let healthChecks = 0;
  let done = false;
  const health = (async () => {
    while (!done) {
      const t0 = performance.now();
      await (await fetch(`${url}/health`)).text();
      slowestHealth = Math.max(slowestHealth, performance.now() - t0);
      healthChecks++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  // CPU seconds and the event loop's longest delay: on a shared machine the wall-clock figures
  // also hold the time other processes had the cores; CPU time does not.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const answers = await Promise.all([0, 1, 2].map(() => send(url, body, client)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  done = true;
  await health;
  clearInterval(sampler);
  gcObserver.disconnect();
  await app.close();
  return {
    cap: maxIngestRecords ?? 'default',
    body: kind,
    client,
    recordsPerBody: body.records,
    statuses: answers.map((a) => a.status),
    answerMiB: answers.map((a) => MiB(a.bytes)),
    answerPerInput: Number((Math.max(...answers.map((a) => a.bytes)) / body.text.length).toFixed(3)),
    seconds: Number(seconds.toFixed(2)),
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    maxLoopDelayMs: Number((loop.max / 1e6).toFixed(1)),
    idleRssMiB: MiB(idle),
    peakRssMiB: MiB(peak),
    rssGrowthMiB: MiB(peak - idle),
    heapGrowthMiB: MiB(peakHeap - idleMemory.heapUsed),
    externalGrowthMiB: MiB(peakExternal - idleMemory.external),
    longestGcMs: Number(gc.longestMs.toFixed(1)),
    gcMs: Number(gc.totalMs.toFixed(0)),
    slowestHealthMs: Number(slowestHealth.toFixed(1)),
    healthChecks,
  };
}

const clf = await LogClassifier.open(model, { threads: 2 });
try {
  const only = process.env.BENCH_ROWS?.split(',');
  const plan: Array<[string, number | undefined, BodyKind, ('stream' | 'held')?]> = [
    ['default', undefined, 'ndjson'],
    ['default2', undefined, 'ndjson'],
    ['array-default', undefined, 'array'],
    ['ndjson', 1_000_000, 'ndjson'],
    ['array', 1_000_000, 'array'],
    ['alternating', 1_000_000, 'alternating'],
    ['alternating-held', 1_000_000, 'alternating', 'held'],
  ];
  const rows = [];
  // BENCH_ROWS=default,ndjson runs only those rows (the old code takes minutes on some).
  for (const [name, cap, kind, client] of plan) if (!only || only.includes(name)) rows.push({ row: name, ...(await run(clf, cap, kind, client)) });
  console.log(JSON.stringify({ maxRssMiB: MiB(process.resourceUsage().maxRSS * 1024), rows }, null, 2));
} finally {
  await clf.dispose();
}
