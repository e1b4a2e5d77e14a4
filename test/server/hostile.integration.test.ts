// SPDX-License-Identifier: MIT
// Hostile clients: slow bodies and slow headers, 10,000 connections opened and dropped, wrong
// content types and encodings, huge headers, garbage. After each, the server is up, /health
// answers 200 and a classification still works. Raw sockets, so nothing is tidied by a client.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier } from '../../src/index.js';
import { tinyModel } from '../fixtures/index.js';
import { get, metricValue, post, startServer, waitFor, type RunningServer } from './helpers.js';

const REQUEST_TIMEOUT_MS = 2000;

let classifier: LogClassifier;
let server: RunningServer;

beforeAll(async () => {
  classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1 });
  server = await startServer(classifier, { requestTimeoutMs: REQUEST_TIMEOUT_MS, payloadLimit: 64 * 1024 });
});

afterAll(async () => {
  await server?.app.close();
  await classifier?.dispose();
});

async function expectServing(): Promise<void> {
  expect((await get(`${server.url}/health`)).status).toBe(200);
  const res = await post(`${server.url}/predict`, { inputs: 'sshd[22]: Failed password for root from 10.0.0.9' });
  expect(res.status).toBe(200);
  expect(res.body).toHaveLength(5);
}

interface RawExchange {
  socket: Socket;
  /** Everything the server sent. */
  received: () => string;
  closed: Promise<void>;
}

function openRaw(): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString('latin1')));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => received, closed }));
    socket.once('error', reject);
  });
}

/** Sends `request` whole and resolves with the status line the server answered. */
async function rawStatus(request: string | Buffer): Promise<string> {
  const ex = await openRaw();
  ex.socket.end(request);
  await ex.closed;
  return ex.received().split('\r\n')[0] ?? '';
}

describe('slow clients', () => {
  it('times out slow bodies and slow headers with 408 while /health keeps answering', async () => {
    const slowBodies = await Promise.all(Array.from({ length: 20 }, openRaw));
    const slowHeaders = await Promise.all(Array.from({ length: 10 }, openRaw));
    for (const ex of slowBodies) {
      ex.socket.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"inputs":"');
    }
    const header = 'POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: ';
    let sent = 0;
    const dribble = setInterval(() => {
      for (const ex of slowBodies) if (!ex.socket.destroyed) ex.socket.write('a');
      for (const ex of slowHeaders) if (!ex.socket.destroyed) ex.socket.write(header[sent % header.length]!);
      sent++;
    }, 100);
    try {
      await expectServing();
      await Promise.all([...slowBodies, ...slowHeaders].map((ex) => ex.closed));
    } finally {
      clearInterval(dribble);
    }
    for (const ex of [...slowBodies, ...slowHeaders]) expect(ex.received()).toMatch(/^HTTP\/1\.1 408 /);
    await expectServing();
  });
});

describe('connection floods', () => {
  it('survives 10,000 connections opened and dropped (idle, mid-request, after a full request)', async () => {
    const TOTAL = 10_000;
    const WAVE = 500;
    const body = JSON.stringify({ inputs: 'GET /index.html HTTP/1.1 200 512' });
    const full = `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    let closed = 0;
    for (let wave = 0; wave < TOTAL / WAVE; wave++) {
      await Promise.all(
        Array.from({ length: WAVE }, (_, k) => {
          const kind = (wave * WAVE + k) % 3;
          return new Promise<void>((resolve) => {
            const socket = connect(server.port, '127.0.0.1');
            socket.on('error', () => {});
            socket.on('close', () => {
              closed++;
              resolve();
            });
            socket.once('connect', () => {
              if (kind === 1) socket.write(full.slice(0, 40));
              if (kind === 2) socket.write(full);
              // Dropped without a FIN: the server sees a reset or an end, never a goodbye.
              setImmediate(() => socket.destroy());
            });
          });
        }),
      );
    }
    expect(closed).toBe(TOTAL);
    await expectServing();
    // Requests whose client left are cancelled or finished: nothing stays admitted or queued.
    await waitFor(async () => {
      const metrics = (await get(`${server.url}/metrics`)).text;
      return metricValue(metrics, 'logtriage_requests_in_flight') === 0 && metricValue(metrics, 'logtriage_lines_in_flight') === 0;
    }, 'requests in flight to drop to 0');
  });
});

describe('wrong content types and encodings', () => {
  it.each([
    ['/predict', { 'content-type': 'text/plain' }, 'hello', 415, 'unsupported_media_type'],
    ['/predict', { 'content-type': 'application/xml' }, '<inputs>x</inputs>', 415, 'unsupported_media_type'],
    ['/predict', { 'content-type': 'application/x-www-form-urlencoded' }, 'inputs=x', 415, 'unsupported_media_type'],
    ['/predict', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\n\r\nx\r\n--x--', 415, 'unsupported_media_type'],
    ['/predict', { 'content-type': 'application/x-ndjson' }, '{"inputs":"x"}\n', 415, 'unsupported_media_type'],
    ['/ingest', { 'content-type': 'text/csv' }, 'message\nx\n', 415, 'unsupported_media_type'],
    ['/predict', { 'content-type': 'application/json', 'content-encoding': 'br' }, '{"inputs":"x"}', 415, 'unsupported_media_type'],
    ['/predict', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'not gzip at all', 400, 'bad_request'],
    ['/predict', { 'content-type': 'application/json' }, '', 400, 'bad_request'],
    ['/predict', { 'content-type': 'application/json' }, '{"inputs": "x", "__proto__": {"polluted": 1}}', 400, 'bad_request'],
  ])('%s with %j is refused with %i and TEI body', async (path, headers, body, status, type) => {
    const res = await post(`${server.url}${path}`, body, headers as Record<string, string>);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error: expect.any(String), error_type: type });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a body with no Content-Type', async () => {
    const status = await rawStatus('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 14\r\nConnection: close\r\n\r\n{"inputs":"x"}');
    expect(status).toMatch(/^HTTP\/1\.1 415 /);
    await expectServing();
  });
});

describe('huge headers and garbage', () => {
  it('answers 431 to oversized headers and 400 to garbage, then keeps serving', async () => {
    const big = (n: number) => `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(n)}\r\nConnection: close\r\n\r\n`;
    expect(await rawStatus(big(20 * 1024))).toMatch(/^HTTP\/1\.1 431 /);
    expect(await rawStatus(big(1024 * 1024))).toMatch(/^HTTP\/1\.1 431 /);
    const manyHeaders = Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n');
    expect(await rawStatus(`GET /health HTTP/1.1\r\nHost: x\r\n${manyHeaders}\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    expect(await rawStatus('NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await rawStatus('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    await expectServing();
  });
});
