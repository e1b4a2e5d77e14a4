// SPDX-License-Identifier: MIT
// forwardBulk against a fake `_bulk` endpoint (no model): items read one by one, only 429/5xx
// items sent again, a mapping conflict reported for its record alone, deterministic `_id`s, and
// `_` fields never sent as document fields.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/server/errors.js';
import { BULK_TRIES, bulkIds, forwardBulk, MOVED_FIELDS_KEY, withoutMetadataFields } from '../../src/server/forwardBulk.js';

/** Per call, the actions received; `answer` decides each item's status from its document. */
let calls: Array<Array<{ id: string; doc: Record<string, unknown> }>> = [];
let answer: (doc: Record<string, unknown>, call: number) => number = () => 201;
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const lines = body.trim().split('\n').map((l) => JSON.parse(l));
      const actions = [];
      for (let i = 0; i < lines.length; i += 2) actions.push({ id: lines[i].create._id as string, doc: lines[i + 1] as Record<string, unknown> });
      calls.push(actions);
      const items = actions.map(({ doc }) => {
        const status = answer(doc, calls.length);
        return { create: { status, ...(status >= 300 ? { error: { type: status === 400 ? 'document_parsing_exception' : 'es_rejected_execution_exception', reason: `status ${status}` } } : {}) } };
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: items.some((i) => i.create.status >= 300), items }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/logs/_bulk`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const target = () => ({ url, timeoutMs: 5000, headers: {} });
const docs = (...messages: string[]) => messages.map((m) => JSON.stringify({ message: m }));

describe('forwardBulk()', () => {
  it('sends again only the items that failed with 429/5xx, reports a 400 for its record alone, and takes 409 as arrived', async () => {
    calls = [];
    // a: created; b: 429 once, then created; c: mapping conflict; d: already there (409).
    answer = (doc, call) => ({ a: 201, b: call === 1 ? 429 : 201, c: 400, d: 409 })[doc.message as string]!;
    const sent = docs('a', 'b', 'c', 'd');
    const ids = bulkIds(sent);
    const refused = await forwardBulk(sent, ids, target());
    expect([...refused.keys()]).toEqual([2]);
    expect(refused.get(2)).toMatch(/document_parsing_exception: status 400/);
    expect(calls.map((c) => c.map((a) => a.doc.message))).toEqual([['a', 'b', 'c', 'd'], ['b']]);
    expect(calls[1]![0]!.id).toBe(ids[1]); // the same _id on the second try
  });

  it('answers 503 when items still fail with 429 after every try, having sent nothing but them again', async () => {
    calls = [];
    answer = (doc) => (doc.message === 'busy' ? 429 : 201);
    const error = await forwardBulk(docs('ok', 'busy'), bulkIds(docs('ok', 'busy')), target()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).kind).toBe('downstream_unavailable');
    expect(calls).toHaveLength(BULK_TRIES);
    expect(calls.slice(1).every((c) => c.length === 1 && c[0]!.doc.message === 'busy')).toBe(true);
  });
});

describe('bulkIds()', () => {
  it('gives the same record the same _id in every request, and identical copies in one request distinct ones', () => {
    const first = bulkIds(['{"m":1}', '{"m":2}', '{"m":1}']);
    expect(first[0]).toMatch(/^[0-9a-f]{40}$/);
    expect(first[2]).toBe(`${first[0]}-1`);
    expect(new Set(first).size).toBe(3);
    expect(bulkIds(['{"m":2}'])[0]).toBe(first[1]);
  });
});

describe('withoutMetadataFields()', () => {
  it('moves top-level _ fields (_id, _index, __proto__) under one object, and leaves nested ones and other records alone', () => {
    const record = JSON.parse('{"_id":"x","_index":"other","message":"m","__proto__":{"p":1},"nested":{"_id":"kept"}}');
    const doc = withoutMetadataFields(record);
    expect(Object.keys(doc)).toEqual(['message', 'nested', MOVED_FIELDS_KEY]);
    expect(doc[MOVED_FIELDS_KEY]).toEqual(JSON.parse('{"id":"x","index":"other","proto__":{"p":1}}'));
    expect(doc.nested).toEqual({ _id: 'kept' });
    const plain = { message: 'm' };
    expect(withoutMetadataFields(plain)).toBe(plain);
  });
});
