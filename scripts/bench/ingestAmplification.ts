// SPDX-License-Identifier: MIT
// Issue 29's amplification target, measured: three concurrent 2 MB NDJSON bodies of empty records
// ({} lines, no message) sent to /ingest, while /health is asked every 20 ms. Reports idle and
// peak RSS (sampled every 10 ms, and the kernel's maxRSS) and the slowest /health answer, once
// with the default records-per-request cap and once with the cap above the body's record count
// (what each record costs when it is admitted), then the same with a 2 MB JSON array of `{}` and
// with NDJSON alternating `{}` and `1` lines (skipped and rejected in turn: no two alike in a row).
// The server runs in this process and is all that is measured here; the clients (the three bodies,
// and the /health poller) run in child processes of their own (this file with --clients, --health),
// started and ready (bodies built, connections warm) before the clocks start, so neither their
// memory, their start-up nor their work on an event loop is counted as the server's: with both in
// one process, the clients' first-time costs (undici's cold code, building 2 MB bodies) landed in
// the first round's /health figure. The clients read each answer as a stream, counting its bytes;
// the `-held` row holds each answer whole first, as a naive client does.
// Per row also: peak heap and off-heap (external) growth, and the longest GC pause, to tell where
// memory and stalls go.
//   node --expose-gc --import tsx scripts/bench/ingestAmplification.ts [model.gguf]   (default: the tests' tiny F32 model)
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LogClassifier } from '../../src/index.js';
import { createServer } from '../../src/server/index.js';

const SIZE = 2 * 2 ** 20;
const BODY_KINDS = {
  ndjson: { type: 'application/x-ndjson', records: Math.floor(SIZE / 3), text: () => '{}\n'.repeat(Math.floor(SIZE / 3)) },
  array: { type: 'application/json', records: Math.floor(SIZE / 3), text: () => `[${Array(Math.floor(SIZE / 3)).fill('{}').join(',')}]` },
  alternating: { type: 'application/x-ndjson', records: 2 * Math.floor(SIZE / 5), text: () => '{}\n1\n'.repeat(Math.floor(SIZE / 5)) },
};
type BodyKind = keyof typeof BODY_KINDS;
type ClientKind = 'stream' | 'held';
interface ClientReport {
  answers: Array<{ status: number | string; bytes: number }>;
  seconds: number;
  slowestHealthMs: number;
  healthChecks: number;
}
const MiB = (b: number) => Number((b / 2 ** 20).toFixed(1));

/** Sends one body; the answer is counted as it arrives (`stream`) or held whole first (`held`). */
async function send(url: string, body: { text: string; type: string }, client: ClientKind): Promise<{ status: number | string; bytes: number }> {
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

/**
 * The senders' child: builds the body and warms a connection (a /health request), says `ready` on
 * stdout and waits for a line on stdin; then three concurrent bodies, timed.
 */
async function runClients(url: string, kind: BodyKind, client: ClientKind): Promise<Pick<ClientReport, 'answers' | 'seconds'>> {
  const body = { text: BODY_KINDS[kind].text(), type: BODY_KINDS[kind].type };
  await (await fetch(`${url}/health`)).text();
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
  const t0 = performance.now();
  const answers = await Promise.all([0, 1, 2].map(() => send(url, body, client)));
  return { answers, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The /health child: asks every 20 ms from a process of its own (a poller beside the senders would
 * wait on their event loop: a held 53 MB answer decoding), from its first line on stdout until
 * its stdin ends; then the slowest answer on stdout.
 */
async function pollHealth(url: string): Promise<void> {
  // A connection and a warm route before the clock starts: the first fetch pays for both.
  for (let i = 0; i < 5; i++) await (await fetch(`${url}/health`)).text();
  let done = false;
  process.stdin.on('end', () => (done = true)).resume();
  process.stdout.write('polling\n');
  let slowestHealthMs = 0;
  let healthChecks = 0;
  while (!done) {
    const t0 = performance.now();
    await (await fetch(`${url}/health`)).text();
    slowestHealthMs = Math.max(slowestHealthMs, performance.now() - t0);
    healthChecks++;
    await new Promise((r) => setTimeout(r, 20));
  }
  process.stdout.write(`${JSON.stringify({ slowestHealthMs, healthChecks })}\n`);
}

/** Starts the /health child; resolves once it polls, with a stop() that ends it and gives its figures. */
async function startHealthChild(url: string): Promise<() => Promise<Pick<ClientReport, 'slowestHealthMs' | 'healthChecks'>>> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--health', url], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== 'polling') throw new Error(`the /health child did not start (${String(first.value)})`);
  return async () => {
    child.stdin!.end();
    const report = await lines.next();
    return JSON.parse(String(report.value)) as Pick<ClientReport, 'slowestHealthMs' | 'healthChecks'>;
  };
}

async function run(clf: LogClassifier, maxIngestRecords: number | undefined, kind: BodyKind = 'ndjson', client: ClientKind = 'stream') {
  const app = createServer(clf, { payloadLimit: 8 * 2 ** 20, ...(maxIngestRecords ? { maxIngestRecords } : {}) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
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
  // CPU seconds and the event loop's longest delay, of the server alone: on a shared machine the
  // wall-clock figures also hold the time other processes had the cores; CPU time does not.
  // Both children are started, and the senders' bodies built, before the clocks start: spawning a
  // process holds this event loop for tens of ms, and a child's start-up (tsx) takes a core.
  const stopHealth = await startHealthChild(url);
  const senders = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--clients', JSON.stringify({ url, kind, client })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const senderLines = createInterface({ input: senders.stdout! })[Symbol.asyncIterator]();
  const ready = await senderLines.next();
  if (ready.value !== 'ready') throw new Error(`the senders' child did not start (${String(ready.value)})`);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  senders.stdin!.end('go\n');
  const sent = await senderLines.next();
  const report: ClientReport = { ...(JSON.parse(String(sent.value)) as Pick<ClientReport, 'answers' | 'seconds'>), ...(await stopHealth()) };
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  clearInterval(sampler);
  gcObserver.disconnect();
  await app.close();
  const inputBytes = BODY_KINDS[kind].text().length;
  return {
    cap: maxIngestRecords ?? 'default',
    body: kind,
    client,
    recordsPerBody: BODY_KINDS[kind].records,
    statuses: report.answers.map((a) => a.status),
    answerMiB: report.answers.map((a) => MiB(a.bytes)),
    answerPerInput: Number((Math.max(...report.answers.map((a) => a.bytes)) / inputBytes).toFixed(3)),
    seconds: Number(report.seconds.toFixed(2)),
    cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    maxLoopDelayMs: Number((loop.max / 1e6).toFixed(1)),
    idleRssMiB: MiB(idle),
    peakRssMiB: MiB(peak),
    rssGrowthMiB: MiB(peak - idle),
    heapGrowthMiB: MiB(peakHeap - idleMemory.heapUsed),
    externalGrowthMiB: MiB(peakExternal - idleMemory.external),
    longestGcMs: Number(gc.longestMs.toFixed(1)),
    gcMs: Number(gc.totalMs.toFixed(0)),
    slowestHealthMs: Number(report.slowestHealthMs.toFixed(1)),
    healthChecks: report.healthChecks,
  };
}

if (process.argv[2] === '--clients') {
  const { url, kind, client } = JSON.parse(process.argv[3]!) as { url: string; kind: BodyKind; client: ClientKind };
  process.stdout.write(`${JSON.stringify(await runClients(url, kind, client))}\n`);
} else if (process.argv[2] === '--health') {
  await pollHealth(process.argv[3]!);
} else {
  const model = process.argv[2] ?? 'test-artifacts/models/qwen2-tiny-f32.gguf';
  const clf = await LogClassifier.open(model, { threads: 2 });
  try {
    const only = process.env.BENCH_ROWS?.split(',');
    const plan: Array<[string, number | undefined, BodyKind, ClientKind?]> = [
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
}
