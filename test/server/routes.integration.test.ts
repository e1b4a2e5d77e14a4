// SPDX-License-Identifier: MIT
// Every route over real HTTP on loopback, against the tiny F32 model: TEI /predict shapes,
// /v1/classify, /ingest as Vector and Fluent Bit send it, /health, /info, /metrics, and the
// refusals (validation, limits, auth), each with TEI's error body.
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier, type ClassificationResult } from '../../src/index.js';
import { ERROR_STATUS } from '../../src/server/index.js';
import { tinyModel } from '../fixtures/index.js';
import { get, metricValue, post, sampleLines, startServer, type RunningServer } from './helpers.js';

const LABELS = ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error'];
const TOL = 1e-5;
// Short enough that a long input is cheap to truncate on this CPU.
const MAX_TOKENS = 64;
const lines = sampleLines(12);
const longLine = Array.from({ length: 120 }, (_, i) => `token${i}`).join(' ');

let classifier: LogClassifier;
let server: RunningServer;
let direct: ClassificationResult[];

beforeAll(async () => {
  classifier = await LogClassifier.open(tinyModel('f32'), { threads: 1, maxTokens: MAX_TOKENS });
  direct = await classifier.classifyMany(lines);
  server = await startServer(classifier, { maxClientBatchSize: 8, payloadLimit: 64 * 1024 });
});

afterAll(async () => {
  await server?.app.close();
  await classifier?.dispose();
});

/** Asserts `predictions` is every label, best first, with the direct call's probabilities. */
function expectPredictions(predictions: Array<{ label: string; score: number }>, expected: ClassificationResult): void {
  expect(predictions.map((p) => p.label).sort()).toEqual([...LABELS].sort());
  const scores = predictions.map((p) => p.score);
  expect(scores).toEqual([...scores].sort((a, b) => b - a));
  expect(predictions[0]!.label).toBe(expected.label);
  for (const p of predictions) expect(Math.abs(p.score - expected.scores[p.label]!)).toBeLessThanOrEqual(TOL);
}

describe('POST /predict (TEI)', () => {
  it('answers a single string with one flat list of every label', async () => {
    const res = await post(`${server.url}/predict`, { inputs: lines[0] });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body[0])).toBe(false);
    expectPredictions(res.body, direct[0]!);
    expect(Number(res.headers.get('x-compute-tokens'))).toBe(direct[0]!.tokens);
  });

  it('answers a list of strings with one list per input, in order', async () => {
    const res = await post(`${server.url}/predict`, { inputs: lines.slice(0, 5) });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(5);
    res.body.forEach((p: Array<{ label: string; score: number }>, i: number) => expectPredictions(p, direct[i]!));
  });

  it('answers TEI batch form [[string], ...] like the list of strings', async () => {
    const res = await post(`${server.url}/predict`, { inputs: lines.slice(2, 6).map((l) => [l]) });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(4);
    res.body.forEach((p: Array<{ label: string; score: number }>, i: number) => expectPredictions(p, direct[i + 2]!));
  });

  it('returns head logits with raw_scores', async () => {
    const res = await post(`${server.url}/predict`, { inputs: lines[1], raw_scores: true });
    expect(res.status).toBe(200);
    for (const p of res.body) {
      expect(Math.abs(p.score - direct[1]!.logits[LABELS.indexOf(p.label)]!)).toBeLessThanOrEqual(TOL);
    }
  });

  it('truncates long inputs by default and refuses them with truncate: false (422)', async () => {
    const ok = await post(`${server.url}/predict`, { inputs: longLine });
    expect(ok.status).toBe(200);
    expect(Number(ok.headers.get('x-compute-tokens'))).toBe(MAX_TOKENS);
    const refused = await post(`${server.url}/predict`, { inputs: [lines[0], longLine], truncate: false });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({ error: expect.stringMatching(/inputs\[1\] is longer than max_input_length 64/), error_type: 'validation' });
  });

  it('honours truncation_direction per request, in either case, cutting the side asked for', async () => {
    const [right] = await classifier.classifyMany([longLine], { truncation: 'right' });
    const [left] = await classifier.classifyMany([longLine], { truncation: 'left' });
    expect(left!.label === right!.label && left!.score === right!.score).toBe(false);
    for (const [direction, expected] of [['Right', right], ['right', right], ['Left', left], ['left', left]] as const) {
      const res = await post(`${server.url}/predict`, { inputs: longLine, truncation_direction: direction });
      expect(res.status).toBe(200);
      expect(Number(res.headers.get('x-compute-tokens'))).toBe(MAX_TOKENS);
      expectPredictions(res.body, expected!);
    }
  });

  it.each([
    ['a number', { inputs: 5 }, 422, 'validation', /Expected a string, a list of strings or a list of one-element lists/],
    ['no inputs', { text: 'x' }, 422, 'validation', /request body\.inputs/],
    ['an empty list', { inputs: [] }, 400, 'empty', /cannot be empty/],
    ['an empty string', { inputs: '' }, 400, 'empty', /empty/],
    ['whitespace only', { inputs: ['ok line', '   '] }, 400, 'empty', /whitespace/],
    ['a pair', { inputs: [['a', 'b']] }, 422, 'validation', /pair of texts/],
    ['mixed forms', { inputs: ['a', ['b']] }, 422, 'validation', /mixes strings and lists/],
    ['a bad raw_scores', { inputs: 'a', raw_scores: 'yes' }, 422, 'validation', /raw_scores/],
    ['a bad truncation_direction', { inputs: 'a', truncation_direction: 'middle' }, 422, 'validation', /truncation_direction/],
    ['too many inputs', { inputs: Array(9).fill('line') }, 422, 'validation', /batch size 9 > maximum allowed batch size 8/],
  ])('refuses %s with the TEI body', async (_name, body, status, type, message) => {
    const res = await post(`${server.url}/predict`, body);
    expect(res.status).toBe(status);
    expect(ERROR_STATUS[type as keyof typeof ERROR_STATUS]).toBe(status);
    expect(res.body).toEqual({ error: expect.stringMatching(message), error_type: type });
  });

  it('answers malformed JSON with 400 and a body over the payload limit with 413', async () => {
    const malformed = await post(`${server.url}/predict`, '{"inputs": "unterminated');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error_type).toBe('bad_request');
    const huge = await post(`${server.url}/predict`, { inputs: 'x'.repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.body.error_type).toBe('payload_too_large');
  });

  it('reads a gzip body and counts the payload limit after decoding', async () => {
    const small = await post(`${server.url}/predict`, gzipSync(JSON.stringify({ inputs: lines[0] })), { 'content-encoding': 'gzip' });
    expect(small.status).toBe(200);
    expectPredictions(small.body, direct[0]!);
    const bomb = gzipSync(JSON.stringify({ inputs: 'a'.repeat(1024 * 1024) }));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const refused = await post(`${server.url}/predict`, bomb, { 'content-encoding': 'gzip' });
    expect(refused.status).toBe(413);
  });
});

describe('POST /v1/classify', () => {
  it('returns data with index, label, score and scores, and token usage', async () => {
    const res = await post(`${server.url}/v1/classify`, { input: lines.slice(0, 3) });
    expect(res.status).toBe(200);
    expect(res.body.object).toBe('list');
    expect(res.body.model).toBe('qwen2-tiny-f32');
    expect(res.body.data).toHaveLength(3);
    res.body.data.forEach((item: any, i: number) => {
      expect(item.index).toBe(i);
      expect(item.label).toBe(direct[i]!.label);
      expect(Math.abs(item.score - direct[i]!.score)).toBeLessThanOrEqual(TOL);
      expect(Object.keys(item.scores)).toHaveLength(LABELS.length);
      expect(Object.keys(item.scores)[0]).toBe(direct[i]!.label);
      expect(item.tokens).toBe(direct[i]!.tokens);
    });
    const tokens = direct.slice(0, 3).reduce((n, r) => n + r.tokens, 0);
    expect(res.body.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it('keeps the top_k best labels in scores for a single string', async () => {
    const res = await post(`${server.url}/v1/classify`, { input: lines[4], top_k: 2 });
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(1);
    const scores = Object.entries(res.body.data[0].scores) as Array<[string, number]>;
    expect(scores).toHaveLength(2);
    expect(scores[0]![0]).toBe(direct[4]!.label);
    expect(scores[0]![1]).toBeGreaterThanOrEqual(scores[1]![1]);
  });

  it('refuses an empty list, a bad top_k and too many inputs', async () => {
    expect((await post(`${server.url}/v1/classify`, { input: [] })).body.error_type).toBe('empty');
    expect((await post(`${server.url}/v1/classify`, { input: 'x', top_k: 0 })).status).toBe(422);
    expect((await post(`${server.url}/v1/classify`, { input: Array(9).fill('x') })).status).toBe(422);
  });
});

describe('POST /ingest', () => {
  // As Vector's http sink sends it with encoding.codec = "json" (a JSON array of events).
  const vectorEvents = lines.slice(0, 4).map((message, i) => ({
    message,
    timestamp: `2024-06-10T12:00:0${i}.000Z`,
    host: 'web01',
    source_type: 'file',
    file: '/var/log/syslog',
  }));

  it('enriches a Vector JSON array, keeping every field and the order', async () => {
    const res = await post(`${server.url}/ingest`, vectorEvents);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toHaveLength(4);
    res.body.forEach((record: any, i: number) => {
      expect(record).toMatchObject(vectorEvents[i]!);
      expect(record.logtriage.label).toBe(direct[i]!.label);
      expect(Math.abs(record.logtriage.score - direct[i]!.score)).toBeLessThanOrEqual(TOL);
    });
  });

  it('answers NDJSON (Vector framing.method = "newline_delimited") with NDJSON, CRLF and blank lines included', async () => {
    const ndjson = `${vectorEvents.map((e) => JSON.stringify(e)).join('\r\n')}\n\n`;
    const res = await post(`${server.url}/ingest`, ndjson, { 'content-type': 'application/x-ndjson' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const out = res.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(out.map((r) => r.logtriage.label)).toEqual(direct.slice(0, 4).map((r) => r.label));
  });

  it('classifies the Fluent Bit `log` field of json_lines, gzip-compressed, and marks records it cannot classify', async () => {
    const fluent = await startServer(classifier, { messageField: 'log' });
    try {
      // As Fluent Bit's http output sends it with `Format json_lines` and `Compress gzip`.
      const records = [
        { date: 1718020800.123456, log: lines[5], stream: 'stdout', kubernetes: { pod_name: 'api-7d9f', namespace_name: 'prod' } },
        { date: 1718020800.234567, stream: 'stderr' },
        { date: 1718020800.345678, log: '  ', stream: 'stdout' },
        { date: 1718020800.456789, log: lines[6], stream: 'stderr' },
      ];
      const body = gzipSync(records.map((r) => JSON.stringify(r)).join('\n'));
      const res = await post(`${fluent.url}/ingest`, body, { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
      expect(res.status).toBe(200);
      const out = res.text.trim().split('\n').map((l) => JSON.parse(l));
      expect(out).toHaveLength(4);
      expect(out[0].kubernetes.pod_name).toBe('api-7d9f');
      expect(out[0].logtriage.label).toBe(direct[5]!.label);
      // A skipped record is answered by its reason alone (the shipper has the record): one entry per run of records alike.
      expect(out[1]).toEqual({ logtriage: { skipped: "no string at 'log'", records: 1 } });
      expect(out[2]).toEqual({ logtriage: { skipped: "'log' is blank", records: 1 } });
      expect(out[3].logtriage.label).toBe(direct[6]!.label);
    } finally {
      await fluent.app.close();
    }
  });

  it('reads a nested message field and writes ECS fields with --ecs', async () => {
    const ecs = await startServer(classifier, { messageField: 'log.original', ecs: true });
    try {
      const record = { '@timestamp': '2024-06-10T12:00:00Z', log: { original: lines[7] }, event: { dataset: 'nginx.access' } };
      const res = await post(`${ecs.url}/ingest`, record);
      expect(res.status).toBe(200);
      expect(res.body.event.dataset).toBe('nginx.access');
      expect(['alert', 'event']).toContain(res.body.event.kind);
      expect(res.body.event.type.length).toBeGreaterThan(0);
      expect(res.body.event.risk_score).toBeGreaterThanOrEqual(0);
      expect(res.body.event.risk_score).toBeLessThanOrEqual(100);
      expect(res.body.logtriage.label).toBe(direct[7]!.label);
    } finally {
      await ecs.app.close();
    }
  });

  it('rejects a value that is not an object and a malformed NDJSON line on their own, and a scalar body (422) as a whole', async () => {
    const notObject = await post(`${server.url}/ingest`, [{ message: 'ok' }, 'bare string']);
    expect(notObject.status).toBe(200);
    expect(notObject.body[1].logtriage).toEqual({ rejected: 'a string, not a JSON object', records: 1 });
    expect(notObject.body[0].logtriage.label).toBeDefined();
    const badLine = await post(`${server.url}/ingest`, '{"message":"ok"}\n{"message":\n', { 'content-type': 'application/x-ndjson' });
    expect(badLine.status).toBe(200);
    expect(badLine.text.trim().split('\n').map((l) => JSON.parse(l).logtriage.rejected ?? 'classified')).toEqual(['classified', 'not valid JSON']);
    const scalar = await post(`${server.url}/ingest`, '"just a string"');
    expect(scalar.status).toBe(422);
  });
});

describe('GET /health, /info, /metrics', () => {
  it('reports health, and TEI info fields', async () => {
    const health = await get(`${server.url}/health`);
    expect(health.status).toBe(200);
    const head = await fetch(`${server.url}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const info = await get(`${server.url}/info`);
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({
      model_id: 'qwen2-tiny-f32',
      model_dtype: 'f32',
      model_type: { classifier: { id2label: { '0': 'Normal', '4': 'Error' }, label2id: { Malicious: 2 } } },
      max_input_length: MAX_TOKENS,
      max_client_batch_size: 8,
      max_concurrent_requests: 512,
      auto_truncate: true,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    expect(info.body.logtriage.labels).toEqual(LABELS);
  });

  it('counts requests by route and status, results per label, and nothing in flight at rest', async () => {
    await post(`${server.url}/predict`, { inputs: '' });
    const res = await get(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metricValue(res.text, 'logtriage_http_requests_total', 'route="/predict",status="200"')).toBeGreaterThan(0);
    expect(metricValue(res.text, 'logtriage_http_requests_total', 'route="/predict",status="400"')).toBeGreaterThan(0);
    const perLabel = LABELS.map((l) => metricValue(res.text, 'logtriage_results_total', `label="${l}"`));
    expect(perLabel.every((v) => v !== undefined)).toBe(true);
    expect(perLabel.reduce((a, b) => a! + b!, 0)).toBeGreaterThan(0);
    expect(metricValue(res.text, 'logtriage_requests_in_flight')).toBe(0);
    expect(metricValue(res.text, 'logtriage_lines_in_flight')).toBe(0);
    expect(metricValue(res.text, 'logtriage_tokens_in_total')).toBeGreaterThan(0);
    expect(metricValue(res.text, 'logtriage_tokens_decoded_total')).toBeGreaterThan(0);
    expect(metricValue(res.text, 'logtriage_result_cache_lookups_total')).toBeGreaterThan(0);
    expect(res.text).toMatch(/logtriage_classify_duration_seconds_bucket/);
    expect(res.text).toMatch(/logtriage_request_tokens_bucket/);
    // Latency inside the classifier, split into queue wait (per line) and inference (per native call).
    expect(metricValue(res.text, 'logtriage_queue_wait_seconds_count')).toBeGreaterThan(0);
    expect(metricValue(res.text, 'logtriage_inference_seconds_count')).toBeGreaterThan(0);
    expect(metricValue(res.text, 'logtriage_batch_lines_sum')).toBeGreaterThanOrEqual(metricValue(res.text, 'logtriage_inference_seconds_count')!);
    expect(metricValue(res.text, 'logtriage_queue_depth')).toBe(0);
  });

  it('counts tokens reused from the prefix cache across requests', async () => {
    const before = metricValue((await get(`${server.url}/metrics`)).text, 'logtriage_prefix_cache_tokens_reused_total')!;
    expect(before).toBeGreaterThanOrEqual(0);
    for (const user of ['root', 'admin']) {
      expect((await post(`${server.url}/predict`, { inputs: `sshd[4242]: Failed password for ${user} from 203.0.113.9 port 22 ssh2` })).status).toBe(200);
    }
    const text = (await get(`${server.url}/metrics`)).text;
    // The second line shares "sshd[4242]: Failed password for " with the first.
    expect(metricValue(text, 'logtriage_prefix_cache_tokens_reused_total')! - before).toBeGreaterThanOrEqual(5);
    expect(metricValue(text, 'logtriage_prefix_cache_cells')).toBeGreaterThan(0);
  });

  it('answers an unknown route with a TEI 404 body', async () => {
    const res = await get(`${server.url}/embed`);
    expect(res.status).toBe(404);
    expect(res.body.error_type).toBe('not_found');
  });
});

describe('API key', () => {
  let secured: RunningServer;
  beforeAll(async () => {
    secured = await startServer(classifier, { apiKey: 's3cret-key' });
  });
  afterAll(async () => {
    await secured?.app.close();
  });

  it('leaves /health open and requires the Bearer key everywhere else (401)', async () => {
    expect((await get(`${secured.url}/health`)).status).toBe(200);
    for (const path of ['/info', '/metrics']) {
      const res = await get(`${secured.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.body.error_type).toBe('unauthorized');
    }
    expect((await post(`${secured.url}/predict`, { inputs: 'x' })).status).toBe(401);
    expect((await post(`${secured.url}/predict`, { inputs: 'x' }, { authorization: 'Bearer wrong-key' })).status).toBe(401);
    expect((await post(`${secured.url}/ingest`, [{ message: 'x' }], { authorization: 's3cret-key' })).status).toBe(401);
    const ok = await post(`${secured.url}/predict`, { inputs: lines[0] }, { authorization: 'Bearer s3cret-key' });
    expect(ok.status).toBe(200);
    expect((await get(`${secured.url}/info`, { authorization: 'bearer s3cret-key' })).status).toBe(200);
  });
});

describe('a disposed classifier', () => {
  it('makes /health answer 503', async () => {
    const doomed = await LogClassifier.open(tinyModel('f32'), { threads: 1 });
    const s = await startServer(doomed);
    try {
      expect((await get(`${s.url}/health`)).status).toBe(200);
      await doomed.dispose();
      const res = await get(`${s.url}/health`);
      expect(res.status).toBe(503);
      expect(res.body.error_type).toBe('unhealthy');
      const predict = await post(`${s.url}/predict`, { inputs: 'x' });
      expect(predict.status).toBe(503);
    } finally {
      await s.app.close();
    }
  });
});

describe('request logs', () => {
  async function logsOf(logBodies: boolean): Promise<Array<Record<string, any>>> {
    let text = '';
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const s = await startServer(classifier, { logLevel: 'info', logStream, logBodies, apiKey: 'log-key' });
    try {
      await post(`${s.url}/predict`, { inputs: 'secret line 4242' }, { authorization: 'Bearer log-key' });
    } finally {
      await s.app.close();
    }
    return text.trim().split('\n').map((l) => JSON.parse(l));
  }

  it('are pino JSON with method, URL and status, and leave bodies and keys out unless asked', async () => {
    const plain = await logsOf(false);
    expect(plain.find((r) => r.msg === 'incoming request')?.req).toMatchObject({ method: 'POST', url: '/predict' });
    expect(plain.find((r) => r.msg === 'request completed')?.res).toEqual({ statusCode: 200 });
    const text = JSON.stringify(plain);
    expect(text).not.toMatch(/secret line 4242/);
    expect(text).not.toMatch(/log-key/);
    const withBodies = await logsOf(true);
    expect(withBodies.find((r) => r.msg === 'request body')?.body).toEqual({ inputs: 'secret line 4242' });
  });
});
