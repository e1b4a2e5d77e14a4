// SPDX-License-Identifier: MIT
// /ingest against records written by an attacker (issue 29): a record nested 5,000 levels deep, a
// `__proto__` or `constructor.prototype` key, a value that is not an object, an NDJSON line that
// is not JSON — each is answered on its own, and the records around it are classified and
// forwarded as usual with a 200. A request fails as a whole only when it is wrong as a whole (too
// many records: 413 naming the cap); every /ingest takes an admission place (429); a client that
// never reads its answer loses its socket after the write timeout.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { tinyModel } from '../fixtures/index.js';
import { get, metricValue, post, sampleLines, startServer, waitFor, type RunningServer } from './helpers.js';

const lines = sampleLines(4);
// 5,000 levels (25 KB): JSON.parse reads it, JSON.stringify in the server's stack throws RangeError.
const DEEP = `{"message":"deep",${'"a":{'.repeat(5000)}"x":1${'}'.repeat(5000)}}`;
const PROTO = `{"message":${JSON.stringify(lines[1])},"__proto__":{"polluted":true}}`;
const CTOR = `{"message":${JSON.stringify(lines[2])},"constructor":{"prototype":{"polluted":true}}}`;

let classifier: LogClassifier;
let direct: ClassificationResult[];

/** A downstream that records each forwarded body; `hold()` keeps answers back until `release()`. */
interface Downstream {
  url: string;
  bodies: string[];
  hold: () => void;
  release: () => void;
  close: () => Promise<void>;
}

async function startDownstream(): Promise<Downstream> {
  const bodies: string[] = [];
  let held: Array<() => void> | undefined;
  const server: Server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push(body);
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (held) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/in`,
    bodies,
    hold: () => (held = []),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const answer of waiting) answer();
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

beforeAll(async () => {
  classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1, maxTokens: 64 });
  direct = await classifier.classifyMany(lines);
});
afterAll(async () => {
  await classifier?.dispose();
});

describe('POST /ingest bodies over --payload-limit (read as their chunks, not by fastify)', () => {
  let server: RunningServer;
  const LIMIT = 64 * 1024;
  beforeAll(async () => {
    server = await startServer(classifier, { payloadLimit: LIMIT });
  });
  afterAll(async () => {
    await server?.app.close();
  });

  it('answers 413 payload_too_large, by Content-Length, by the bytes of a chunked body, and by the decoded bytes of a gzip body, in JSON and NDJSON', async () => {
    const records = Array.from({ length: 2000 }, (_, i) => `{"message":"line ${i} ${'x'.repeat(20)}"}`);
    const bodies = { 'application/json': `[${records.join(',')}]`, 'application/x-ndjson': records.join('\n') };
    const chunked = (text: string) => new ReadableStream({ start(c) { for (let at = 0; at < text.length; at += 4096) c.enqueue(new TextEncoder().encode(text.slice(at, at + 4096))); c.close(); } });
    for (const [type, text] of Object.entries(bodies)) {
      expect(Buffer.byteLength(text)).toBeGreaterThan(LIMIT);
      const sent = [
        await fetch(`${server.url}/ingest`, { method: 'POST', body: text, headers: { 'content-type': type } }),
        await fetch(`${server.url}/ingest`, { method: 'POST', body: chunked(text), headers: { 'content-type': type }, duplex: 'half' } as RequestInit),
        await fetch(`${server.url}/ingest`, { method: 'POST', body: gzipSync(text), headers: { 'content-type': type, 'content-encoding': 'gzip' } }),
      ];
      for (const res of sent) {
        expect(res.status, type).toBe(413);
        expect(await res.json()).toMatchObject({ error_type: 'payload_too_large' });
      }
      expect(gzipSync(text).length).toBeLessThan(LIMIT);
    }
    // Under the limit, in chunks split inside multi-byte characters: every record read.
    const small = Array.from({ length: 20 }, (_, i) => `{"message":"é ☃ 😀 ${i}"}`);
    const res = await fetch(`${server.url}/ingest`, { method: 'POST', body: new ReadableStream({ start(c) { const b = Buffer.from(small.join('\n')); for (let at = 0; at < b.length; at += 3) c.enqueue(b.subarray(at, at + 3)); c.close(); } }), headers: { 'content-type': 'application/x-ndjson' }, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(200);
    expect((await res.text()).trim().split('\n').map((l) => JSON.parse(l).message)).toEqual(small.map((l) => JSON.parse(l).message));
  });
});

describe('POST /ingest with hostile records', () => {
  let server: RunningServer;
  let downstream: Downstream;
  beforeAll(async () => {
    downstream = await startDownstream();
    server = await startServer(classifier, { forwardUrl: downstream.url, maxIngestRecords: 8 });
  });
  afterAll(async () => {
    await server?.app.close();
    await downstream?.close();
  });

  it('answers a deep record, a __proto__ / constructor key and a non-object each on its own, in a JSON array', async () => {
    const body = `[{"message":${JSON.stringify(lines[0])},"host":"a"},${DEEP},${PROTO},${CTOR},"bare string",{"message":${JSON.stringify(lines[3])}}]`;
    const res = await post(`${server.url}/ingest`, body);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toHaveLength(6);
    expect(res.body[0].logtriage.label).toBe(direct[0]!.label);
    expect(res.body[0].host).toBe('a');
    // Each entry not classified says its reason and how many records it stands for (the order says which).
    expect(res.body[1]).toEqual({ logtriage: { rejected: 'the record is nested deeper than 100 levels', records: 1 } });
    // The keys are data: kept as own properties, classified like any record.
    expect(Object.hasOwn(res.body[2], '__proto__')).toBe(true);
    expect(res.body[2].__proto__).toEqual({ polluted: true });
    expect(res.body[2].logtriage.label).toBe(direct[1]!.label);
    expect(res.body[3].constructor).toEqual({ prototype: { polluted: true } });
    expect(res.body[3].logtriage.label).toBe(direct[2]!.label);
    expect(res.body[4]).toEqual({ logtriage: { rejected: 'a string, not a JSON object', records: 1 } });
    expect(res.body[5].logtriage.label).toBe(direct[3]!.label);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    // The rejected values are not forwarded; the rest are, in order.
    const forwarded = JSON.parse(downstream.bodies.at(-1)!) as Array<Record<string, unknown>>;
    expect(forwarded.map((r) => r.message)).toEqual([lines[0], lines[1], lines[2], lines[3]]);
    const metrics = await get(`${server.url}/metrics`);
    expect(metricValue(metrics.text, 'logtriage_ingest_records_rejected_total')).toBe(2);
  });

  it('answers the same records and a line that is not JSON each on its own, in NDJSON', async () => {
    const ndjson = [`{"message":${JSON.stringify(lines[0])}}`, DEEP, PROTO, '{"message": oops', CTOR].join('\n');
    const res = await post(`${server.url}/ingest`, ndjson, { 'content-type': 'application/x-ndjson' });
    expect(res.status, res.text).toBe(200);
    const out = res.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(out).toHaveLength(5);
    expect(out[0].logtriage.label).toBe(direct[0]!.label);
    expect(out[1].logtriage.rejected).toMatch(/nested deeper than 100 levels/);
    expect(out[2].logtriage.label).toBe(direct[1]!.label);
    expect(out[3].logtriage).toEqual({ rejected: 'not valid JSON', records: 1 });
    expect(out[4].logtriage.label).toBe(direct[2]!.label);
    expect(downstream.bodies.at(-1)!.trim().split('\n')).toHaveLength(3);
  });

  it('flags records JSON.parse altered (a big integer rounded, 1e400, a repeated key), in JSON and NDJSON, and forwards the flag', async () => {
    const body = `[{"message":${JSON.stringify(lines[0])},"id":12345678901234567890},{"message":"x","v":1e400},{"message":"a","message":${JSON.stringify(lines[1])}},{"message":${JSON.stringify(lines[2])},"ok":9007199254740991}]`;
    const res = await post(`${server.url}/ingest`, body);
    expect(res.status, res.text).toBe(200);
    expect(res.body.map((r: any) => r.logtriage.altered ?? [])).toEqual([['number-precision'], ['number-overflow'], ['duplicate-key'], []]);
    expect(res.body[2].logtriage.label).toBe(direct[1]!.label); // the last value of a repeated key is what was classified
    expect(JSON.parse(downstream.bodies.at(-1)!)[0].logtriage.altered).toEqual(['number-precision']);
    const ndjson = await post(`${server.url}/ingest`, `{"message":"x","n":-99999999999999999999}\n{"message":${JSON.stringify(lines[3])}}\n`, { 'content-type': 'application/x-ndjson' });
    expect(ndjson.text.trim().split('\n').map((l) => JSON.parse(l).logtriage.altered ?? [])).toEqual([['number-precision'], []]);
  });

  it('answers 413 naming the cap to more records than --max-ingest-records, in JSON and NDJSON', async () => {
    const array = await post(`${server.url}/ingest`, Array.from({ length: 9 }, () => ({ other: 1 })));
    expect(array.status).toBe(413);
    expect(array.body).toEqual({ error: expect.stringMatching(/holds 9 records, more than max_ingest_records 8/), error_type: 'payload_too_large' });
    const ndjson = await post(`${server.url}/ingest`, '{}\n'.repeat(9), { 'content-type': 'application/x-ndjson' });
    expect(ndjson.status).toBe(413);
    expect(ndjson.body.error).toMatch(/max_ingest_records 8/);
  });
});

describe('POST /ingest with --forward-format es-bulk', () => {
  it('answers 200 with forward_error on the record Elasticsearch refuses for good, sends no _ field, and the same _ids on a retry', async () => {
    const received: string[][] = [];
    const bulk = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const lines = body.trim().split('\n');
        received.push(lines);
        const items = [];
        for (let i = 1; i < lines.length; i += 2) {
          const doc = JSON.parse(lines[i]!);
          items.push({ create: doc.message === 'conflict' ? { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse field [x]' } } : { status: 201 } });
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: true, items }));
      });
    });
    await new Promise<void>((r) => bulk.listen(0, '127.0.0.1', r));
    const server = await startServer(classifier, { forwardUrl: `http://127.0.0.1:${(bulk.address() as { port: number }).port}/logs/_bulk`, forwardFormat: 'es-bulk' });
    try {
      const records = [{ message: lines[0], _id: 'attacker-chosen', _index: 'other' }, { message: 'conflict' }, { message: lines[1] }];
      const res = await post(`${server.url}/ingest`, records);
      expect(res.status, res.text).toBe(200);
      expect(res.body.map((r: any) => r.logtriage.forward_error ?? 'forwarded')).toEqual(['forwarded', 'mapper_parsing_exception: failed to parse field [x]', 'forwarded']);
      const docs = received[0]!.filter((_, i) => i % 2 === 1).map((l) => JSON.parse(l));
      expect(docs.every((d) => Object.keys(d).every((k) => !k.startsWith('_')))).toBe(true);
      expect(docs[0].source_underscore_fields).toEqual({ id: 'attacker-chosen', index: 'other' });
      await post(`${server.url}/ingest`, records);
      const ids = (call: string[]) => call.filter((_, i) => i % 2 === 0).map((l) => JSON.parse(l).create._id);
      expect(ids(received[1]!)).toEqual(ids(received[0]!));
    } finally {
      await server.app.close();
      await new Promise<void>((r) => bulk.close(() => r()));
    }
  });
});

describe('POST /ingest admission and write timeout', () => {
  it('admits records without a message too: past max-concurrent-requests they get 429', async () => {
    const downstream = await startDownstream();
    const server = await startServer(classifier, { forwardUrl: downstream.url, maxConcurrentRequests: 1 });
    try {
      downstream.hold();
      // No message: nothing to classify, but the request holds its place while it is forwarded.
      const first = post(`${server.url}/ingest`, [{ other: 'no message here' }]);
      await waitFor(() => downstream.bodies.length === 1, 'the first forward');
      const second = await post(`${server.url}/ingest`, [{ other: 'nor here' }]);
      expect(second.status).toBe(429);
      expect(second.body.error_type).toBe('overloaded');
      downstream.release();
      expect((await first).status).toBe(200);
    } finally {
      downstream.release();
      await server.app.close();
      await downstream.close();
    }
  });

  it('closes the socket of a client that never reads its answer', async () => {
    const server = await startServer(classifier, { writeTimeoutMs: 200, payloadLimit: 64 * 1024 * 1024 });
    try {
      const sockets: Socket[] = [];
      server.app.server.on('connection', (s: Socket) => sockets.push(s));
      // 32 records of 1 MB with a short message: a 32 MB answer (classified records are echoed),
      // more than loopback buffers hold.
      const records = Array.from({ length: 32 }, (_, i) => ({ message: 'x', other: String(i % 10).repeat(1024 * 1024) }));
      const body = Buffer.from(JSON.stringify(records));
      const client = connect(server.port, '127.0.0.1');
      client.on('error', () => {});
      await new Promise<void>((r) => client.once('connect', () => r()));
      client.pause(); // reads nothing
      client.write(`POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      client.write(body);
      await waitFor(() => sockets.length === 1, 'the connection');
      const closed = new Promise<void>((r) => sockets[0]!.once('close', () => r()));
      let done = false;
      void closed.then(() => (done = true));
      await waitFor(() => done, 'the server to close the socket of a client that does not read', 30_000);
      client.destroy();
      expect((await get(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.app.close();
    }
  });
});
