// SPDX-License-Identifier: MIT
// `logtriage serve` as a real process: the API key from the environment, and SIGTERM in the
// middle of a load: requests in flight (some with half their body still to come) finish with
// 200, new connections are refused, and the process exits 0.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { tinyModel } from '../fixtures/index.js';
import { get, post, sampleLines, spawnServe, waitFor } from './helpers.js';

const lines = sampleLines(64);

interface HalfSent {
  socket: Socket;
  rest: string;
  response: Promise<string>;
}

/** Opens a /predict request and sends its headers and the first half of its body. */
function sendHalf(port: number, body: string, headers: string): Promise<HalfSent> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    const response = new Promise<string>((r) => socket.on('close', () => r(received)));
    socket.once('error', reject);
    socket.once('connect', () => {
      const half = Math.floor(body.length / 2);
      socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\n${headers}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      socket.write(body.slice(0, half));
      resolve({ socket, rest: body.slice(half), response });
    });
  });
}

/** What a new connection gets: a status line, or the connection error code. */
function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    socket.on('close', () => resolve(received.split('\r\n')[0] ?? ''));
    socket.once('connect', () => socket.end('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  });
}

describe('logtriage serve', () => {
  it('drains on SIGTERM: in-flight requests finish, new connections are refused, exit 0', async () => {
    const serve = await spawnServe(['--model', tinyModel('f32'), '--threads', '1', '--max-client-batch-size', '64'], {
      LOGTRIAGE_API_KEY: 'env-key',
    });
    try {
      const port = Number(new URL(serve.url).port);
      const auth = { authorization: 'Bearer env-key' };
      expect((await get(`${serve.url}/health`)).status).toBe(200);
      expect((await get(`${serve.url}/info`)).status).toBe(401);
      expect((await get(`${serve.url}/info`, auth)).body.max_client_batch_size).toBe(64);

      const halfSent = await Promise.all(
        lines.slice(0, 8).map((line) => sendHalf(port, JSON.stringify({ inputs: line }), 'Authorization: Bearer env-key\r\n')),
      );
      const full = Array.from({ length: 8 }, (_, i) => post(`${serve.url}/predict`, { inputs: [...lines.slice(i), ...lines.slice(0, i)] }, auth));
      const predictsSeen = () => serve.logs().filter((r) => r.msg === 'incoming request' && r.req?.url === '/predict').length;
      await waitFor(() => predictsSeen() >= 16, 'the server to receive 16 /predict requests');

      serve.child.kill('SIGTERM');
      await waitFor(() => serve.logs().some((r) => typeof r.msg === 'string' && r.msg.startsWith('draining')), 'the drain to start');
      expect(await probe(port)).toMatch(/^(ECONNREFUSED|ECONNRESET|HTTP\/1\.1 503 )/);

      for (const h of halfSent) h.socket.write(h.rest);
      const answers = await Promise.all(full);
      // Request i is request 0's lines rotated by i, so its best labels are too.
      const bestLabels = (body: Array<Array<{ label: string }>>) => body.map((p) => p[0]!.label);
      for (const res of answers) {
        expect(res.status, res.text).toBe(200);
        expect(res.body).toHaveLength(64);
        expect(res.body[0].map((p: { label: string }) => p.label).sort()).toEqual(['Error', 'Informational', 'Malicious', 'Normal', 'Suspicious']);
      }
      const base = bestLabels(answers[0]!.body);
      answers.forEach((res, i) => expect(bestLabels(res.body)).toEqual([...base.slice(i), ...base.slice(0, i)]));
      for (const h of halfSent) {
        const raw = await h.response;
        expect(raw).toMatch(/^HTTP\/1\.1 200 /);
        expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toHaveLength(5);
      }

      const { code, signal } = await serve.exited;
      expect(signal).toBeNull();
      expect(code).toBe(0);
      expect(serve.logs().some((r) => r.msg === 'stopped')).toBe(true);
      expect(await probe(port)).toBe('ECONNREFUSED');
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    }
  });
});
