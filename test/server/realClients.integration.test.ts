// SPDX-License-Identifier: MIT
// The server against clients that exist: HuggingFace's own JS client on `POST /`, and
// `--forward` to a loopback receiver (and to one that fails, so /ingest answers 5xx).
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { InferenceClient, textClassification } from '@huggingface/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type PipelineEntry } from '../../src/index.js';
import { tinyModel } from '../fixtures/index.js';
import { post, sampleLines, startServer, type RunningServer } from './helpers.js';

const LABELS = ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error'];
const API_KEY = 'test-key-123';
const lines = sampleLines(8);

interface Receiver {
  url: string;
  bodies: Array<{ type: string | undefined; body: string }>;
  /** Status answered to the next requests. */
  status: number;
  server: Server;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { url: '', bodies: [], status: 200, server: undefined as unknown as Server };
  receiver.server = createHttpServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', () => {
      receiver.bodies.push({ type: request.headers['content-type'], body });
      response.writeHead(receiver.status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  const address = receiver.server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  receiver.url = `http://127.0.0.1:${address.port}/ingest`;
  return receiver;
}

describe('POST / for @huggingface/inference', () => {
  let classifier: LogClassifier;
  let server: RunningServer;

  beforeAll(async () => {
    classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1 });
    server = await startServer(classifier, { apiKey: API_KEY });
  });
  afterAll(async () => {
    await server?.app.close();
    await classifier?.dispose();
  });

  it('textClassification({endpointUrl}) gets every label, best first, equal to pipeline() (accessToken as the API key)', async () => {
    const output = await textClassification({ endpointUrl: server.url, accessToken: API_KEY, inputs: lines[0]! });
    const expected = (await classifier.pipeline(lines[0]!, { topK: null })) as PipelineEntry[];
    expect(output).toHaveLength(LABELS.length);
    expect(output.map((o) => o.label)).toEqual(expected.map((e) => e.label));
    output.forEach((o, i) => expect(o.score).toBeCloseTo(expected[i]!.score, 5));
  });

  it('InferenceClient.endpoint() classifies a batch of lines (concurrent calls share decodes) with top_k and function_to_apply', async () => {
    const client = new InferenceClient(API_KEY).endpoint(server.url);
    const outputs = await Promise.all(lines.map((l) => client.textClassification({ inputs: l, parameters: { top_k: 2, function_to_apply: 'sigmoid' } })));
    const expected = await Promise.all(lines.map(async (l) => (await classifier.pipeline(l, { topK: 2, functionToApply: 'sigmoid' })) as PipelineEntry[]));
    expect(outputs).toHaveLength(lines.length);
    outputs.forEach((o, i) => {
      expect(o.map((p) => p.label)).toEqual(expected[i]!.map((e) => e.label));
      o.forEach((p, j) => expect(p.score).toBeCloseTo(expected[i]![j]!.score, 5));
    });
  });

  it('answers a list of inputs (huggingface_hub batch shape) with one list per input, and refuses a bad body with the TEI body', async () => {
    const auth = { authorization: `Bearer ${API_KEY}` };
    const res = await post(server.url, { inputs: lines.slice(0, 3), parameters: { top_k: null } }, auth);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(3);
    for (const list of res.body) expect(list).toHaveLength(LABELS.length);
    const empty = await post(server.url, { inputs: [] }, auth);
    expect([empty.status, empty.body.error_type]).toEqual([400, 'empty']);
    const wrong = await post(server.url, { inputs: 42 }, auth);
    expect([wrong.status, wrong.body.error_type]).toEqual([422, 'validation']);
    expect((await post(server.url, { inputs: 'x' })).status).toBe(401);
  });
});

describe('serve --forward', () => {
  let classifier: LogClassifier;
  let receiver: Receiver;

  beforeAll(async () => {
    classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1 });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    receiver?.server.close();
    await classifier?.dispose();
  });

  it('forwards the enriched records in the framing received, then answers the shipper', async () => {
    const server = await startServer(classifier, { forwardUrl: receiver.url, forwardHeaders: { authorization: 'Bearer down' } });
    try {
      receiver.bodies.length = 0;
      const records = lines.slice(0, 3).map((message, i) => ({ message, host: `h${i}` }));
      const array = await post(`${server.url}/ingest`, records);
      expect(array.status).toBe(200);
      const ndjson = await post(`${server.url}/ingest`, records.map((r) => JSON.stringify(r)).join('\n'), { 'content-type': 'application/x-ndjson' });
      expect(ndjson.status).toBe(200);
      expect(receiver.bodies).toHaveLength(2);
      const forwardedArray = JSON.parse(receiver.bodies[0]!.body) as Array<Record<string, any>>;
      expect(receiver.bodies[0]!.type).toBe('application/json');
      expect(forwardedArray).toEqual(array.body);
      expect(forwardedArray.map((r) => r.host)).toEqual(['h0', 'h1', 'h2']);
      for (const r of forwardedArray) expect(LABELS).toContain(r.logtriage.label);
      expect(receiver.bodies[1]!.type).toBe('application/x-ndjson');
      expect(receiver.bodies[1]!.body.trim().split('\n').map((l) => JSON.parse(l))).toEqual(forwardedArray);
    } finally {
      await server.app.close();
    }
  });

  it('writes Elasticsearch _bulk create actions with es-bulk, and fails on item errors', async () => {
    const server = await startServer(classifier, { forwardUrl: receiver.url, forwardFormat: 'es-bulk' });
    try {
      receiver.bodies.length = 0;
      const res = await post(`${server.url}/ingest`, [{ message: lines[0] }, { message: lines[1] }]);
      // The receiver answers `{}`: no `errors: false`, so the forward is not known to have arrived.
      expect([res.status, res.body.error_type]).toEqual([502, 'bad_gateway']);
      const sent = receiver.bodies[0]!.body.trim().split('\n').map((l) => JSON.parse(l));
      expect(sent).toHaveLength(4);
      expect(sent[0]).toEqual({ create: { _id: expect.stringMatching(/^[0-9a-f]{40}$/) } });
      expect(sent[1].message).toBe(lines[0]);
    } finally {
      await server.app.close();
    }
  });

  it('answers 502 when the downstream fails and 503 with Retry-After when it cannot be reached', async () => {
    const failing = await startServer(classifier, { forwardUrl: receiver.url });
    const unreachable = await startServer(classifier, { forwardUrl: 'http://127.0.0.1:9/ingest', forwardTimeoutMs: 2000 });
    try {
      receiver.status = 500;
      const bad = await post(`${failing.url}/ingest`, [{ message: lines[0] }]);
      expect([bad.status, bad.body.error_type]).toEqual([502, 'bad_gateway']);
      expect(bad.body.error).toMatch(/answered 500/);
      const down = await post(`${unreachable.url}/ingest`, [{ message: lines[0] }]);
      expect([down.status, down.body.error_type]).toEqual([503, 'downstream_unavailable']);
      expect(down.headers.get('retry-after')).toBe('1');
    } finally {
      receiver.status = 200;
      await failing.app.close();
      await unreachable.app.close();
    }
  });
});
