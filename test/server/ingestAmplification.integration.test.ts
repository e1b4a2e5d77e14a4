// SPDX-License-Identifier: MIT
// /ingest answers records it does not classify without amplifying them (issue 29, item 3): a body
// of empty records (`{}`, no message) was answered with one 50-byte object per 3-byte record, 17×
// the body, built as one string while the event loop waited. Now consecutive records skipped or
// rejected for one reason are one entry (`records: n`), the body is read in slices and the answer
// written in chunks. The event-loop check is a bound on what it protects against (one stall for
// the whole body), not a timing target: that is scripts/bench/ingestAmplification.ts.
import { createServer as createHttpServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier } from '../../src/index.js';
import { tinyModel } from '../fixtures/index.js';
import { post, sampleLines, startServer, type RunningServer } from './helpers.js';

let classifier: LogClassifier;
let server: RunningServer;
const NDJSON = { 'content-type': 'application/x-ndjson' };

beforeAll(async () => {
  classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1, maxTokens: 64 });
  server = await startServer(classifier, { maxIngestRecords: 1_000_000, payloadLimit: 8 * 2 ** 20 });
});
afterAll(async () => {
  await server?.app.close();
  await classifier?.dispose();
});

/** The answer's entries, and how many records they stand for (a run stands for `records`, a classified record for one). */
function entriesOf(answer: unknown[]): { entries: number; records: number } {
  return { entries: answer.length, records: answer.reduce<number>((n, e) => n + ((e as { logtriage: { records?: number } }).logtriage.records ?? 1), 0) };
}

describe('POST /ingest answers no more than it was sent for records it does not classify', () => {
  it('answers a body of empty records, NDJSON and JSON array, in fewer bytes than the body', async () => {
    const count = 100_000;
    const ndjson = '{}\n'.repeat(count);
    const res = await post(`${server.url}/ingest`, ndjson, NDJSON);
    expect(res.status).toBe(200);
    expect(res.text.length).toBeLessThanOrEqual(ndjson.length);
    const lines = res.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(entriesOf(lines)).toEqual({ entries: 1, records: count });
    expect(lines[0]).toEqual({ logtriage: { skipped: "no string at 'message'", records: count } });

    const array = `[${Array(count).fill('{}').join(',')}]`;
    const res2 = await post(`${server.url}/ingest`, array);
    expect(res2.status).toBe(200);
    expect(res2.text.length).toBeLessThanOrEqual(array.length);
    expect(entriesOf(res2.body)).toEqual({ entries: 1, records: count });
  });

  it('keeps every record in its place: classified records between runs, each run counted', async () => {
    const [a, b] = sampleLines(2);
    const body = [...Array(1000).fill('{}'), JSON.stringify({ message: a }), ...Array(500).fill('[1]'), '{"message":"  "}', JSON.stringify({ message: b }), ...Array(7).fill('{}')].join('\n');
    const res = await post(`${server.url}/ingest`, body, NDJSON);
    expect(res.status).toBe(200);
    const out = res.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(out.map((e) => e.logtriage.records ?? e.message)).toEqual([1000, a, 500, 1, b, 7]);
    expect(out[2].logtriage).toEqual({ rejected: 'an array, not a JSON object', records: 500 });
    expect(entriesOf(out).records).toBe(1000 + 1 + 500 + 1 + 1 + 7);
  });

  it('still forwards each skipped record whole, and answers it in a run', async () => {
    const bodies: string[] = [];
    const downstream: Server = createHttpServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        bodies.push(text);
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => downstream.listen(0, '127.0.0.1', r));
    const forwarding = await startServer(classifier, { forwardUrl: `http://127.0.0.1:${(downstream.address() as { port: number }).port}/in` });
    try {
      const res = await post(`${forwarding.url}/ingest`, '{"host":"a"}\n{"host":"b"}\n{"host":"c"}\n', NDJSON);
      expect(res.status).toBe(200);
      expect(res.text).toBe(`${JSON.stringify({ logtriage: { skipped: "no string at 'message'", records: 3 } })}\n`);
      expect(bodies).toHaveLength(1);
      expect(bodies[0]!.trim().split('\n').map((l) => JSON.parse(l))).toEqual(
        ['a', 'b', 'c'].map((host) => ({ host, logtriage: { skipped: "no string at 'message'" } })),
      );
    } finally {
      await forwarding.app.close();
      await new Promise<void>((r) => downstream.close(() => r()));
    }
  });

  it('takes a skipped record _bulk refuses for good out of its run, answered alone with its forward_error', async () => {
    const bulk: Server = createHttpServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        const docs = text.trim().split('\n').filter((_, i) => i % 2 === 1).map((l) => JSON.parse(l));
        const items = docs.map((d) => ({ create: d.host === 'b' ? { status: 400, error: { type: 'mapper_parsing_exception', reason: 'no' } } : { status: 201 } }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: true, items }));
      });
    });
    await new Promise<void>((r) => bulk.listen(0, '127.0.0.1', r));
    const forwarding = await startServer(classifier, { forwardUrl: `http://127.0.0.1:${(bulk.address() as { port: number }).port}/logs/_bulk`, forwardFormat: 'es-bulk' });
    try {
      const res = await post(`${forwarding.url}/ingest`, [{ host: 'a' }, { host: 'a2' }, { host: 'b' }, { host: 'c' }]);
      expect(res.status, res.text).toBe(200);
      const skipped = "no string at 'message'";
      expect(res.body).toEqual([
        { logtriage: { skipped, records: 2 } },
        { logtriage: { skipped, records: 1, forward_error: 'mapper_parsing_exception: no' } },
        { logtriage: { skipped, records: 1 } },
      ]);
    } finally {
      await forwarding.app.close();
      await new Promise<void>((r) => bulk.close(() => r()));
    }
  });

  it('serves the event loop while it reads and answers 200,000 records: no stall covers a large part of the request', async () => {
    const body = '{}\n1\n'.repeat(100_000); // skipped and rejected in turn: no two records alike in a row
    let last = performance.now();
    let longest = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      ticks++;
    }, 5);
    const started = performance.now();
    const res = await post(`${server.url}/ingest`, body, NDJSON);
    const took = performance.now() - started;
    clearInterval(timer);
    expect(res.status).toBe(200);
    expect(entriesOf(res.text.trim().split('\n').map((l) => JSON.parse(l))).records).toBe(200_000);
    expect(ticks).toBeGreaterThan(0);
    // Work done in one synchronous piece (the old split, parse and join) was one stall of about
    // half the request or more; in slices, the longest is a slice or a GC pause.
    expect(longest, `longest stall ${longest.toFixed(0)} ms of ${took.toFixed(0)} ms`).toBeLessThan(took / 4);
  });
});
