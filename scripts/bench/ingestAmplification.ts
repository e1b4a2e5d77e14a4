// SPDX-License-Identifier: MIT
// Issue 29's amplification target, measured: three concurrent 2 MB NDJSON bodies of empty records
// ({} lines, no message) sent to /ingest, while /health is asked every 20 ms. Reports idle and
// peak RSS (sampled every 10 ms, and the kernel's maxRSS) and the slowest /health answer, once
// with the default records-per-request cap and once with the cap above the body's record count
// (what each record costs when it is admitted). Runs in one process: server and clients share it,
// so the /health figure includes the clients' own work.
//   npx tsx scripts/bench/ingestAmplification.ts [model.gguf]   (default: the tests' tiny F32 model)
import { LogClassifier } from '../../src/index.js';
import { createServer } from '../../src/server/index.js';

const model = process.argv[2] ?? 'test-artifacts/models/qwen2-tiny-f32.gguf';
const BODY = '{}\n'.repeat(Math.floor((2 * 2 ** 20) / 3));
const MiB = (b: number) => Number((b / 2 ** 20).toFixed(1));

async function run(clf: LogClassifier, maxIngestRecords: number | undefined) {
  const app = createServer(clf, { payloadLimit: 8 * 2 ** 20, ...(maxIngestRecords ? { maxIngestRecords } : {}) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  // A connection and a warm route before the clock starts: the first fetch pays for both.
  for (let i = 0; i < 5; i++) await (await fetch(`${url}/health`)).text();
  global.gc?.();
  const idle = process.memoryUsage().rss;
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
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
  const t0 = performance.now();
  const answers = await Promise.all(
    [0, 1, 2].map(async () => {
      const res = await fetch(`${url}/ingest`, { method: 'POST', body: BODY, headers: { 'content-type': 'application/x-ndjson' } });
      const text = await res.text();
      return { status: res.status, bytes: text.length };
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  done = true;
  await health;
  clearInterval(sampler);
  await app.close();
  return {
    cap: maxIngestRecords ?? 'default',
    recordsPerBody: BODY.length / 3,
    statuses: answers.map((a) => a.status),
    answerMiB: answers.map((a) => MiB(a.bytes)),
    seconds: Number(seconds.toFixed(2)),
    idleRssMiB: MiB(idle),
    peakRssMiB: MiB(peak),
    rssGrowthMiB: MiB(peak - idle),
    slowestHealthMs: Number(slowestHealth.toFixed(1)),
    healthChecks,
  };
}

const clf = await LogClassifier.open(model, { threads: 2 });
try {
  const rows = [await run(clf, undefined), await run(clf, undefined), await run(clf, 1_000_000)];
  console.log(JSON.stringify({ maxRssMiB: MiB(process.resourceUsage().maxRSS * 1024), rows }, null, 2));
} finally {
  await clf.dispose();
}
