// SPDX-License-Identifier: MIT
// /ingest body handling without a model: NDJSON framing, record checks, field lookup, enrichment.
import { describe, expect, it } from 'vitest';
import type { ClassificationResult } from '../../src/index.js';
import { HttpError } from '../../src/server/errors.js';
import { InvalidLine, NdjsonBody, parseNdjson, recordsOf } from '../../src/server/ingestRecords.js';

const LABELS = ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error'];
const result: ClassificationResult = {
  label: 'Malicious',
  score: 0.7,
  scores: { Normal: 0.1, Suspicious: 0.1, Malicious: 0.7, Informational: 0.05, Error: 0.05 },
  logits: [0, 0, 2, -1, -1],
  tokens: 12,
  truncated: false,
  flags: [],
  review: false,
};

describe('parseNdjson()', () => {
  it('reads LF and CRLF lines, skips blank ones, and keeps the order', () => {
    const body = parseNdjson('{"a":1}\r\n\n  \n{"a":2}\n{"a":3}');
    expect(body).toBeInstanceOf(NdjsonBody);
    expect(body.records).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it('keeps a line that is not JSON as an InvalidLine naming it, and the lines around it', () => {
    const body = parseNdjson('{"a":1}\n\n{"a":\n{"a":4}');
    expect(body.records).toHaveLength(3);
    expect(body.records[1]).toBeInstanceOf(InvalidLine);
    expect((body.records[1] as InvalidLine).reason).toMatch(/NDJSON line 3 is not valid JSON/);
    expect(body.records[2]).toEqual({ a: 4 });
  });

  it('stops at more than maxRecords lines with a 413 naming the cap', () => {
    expect(parseNdjson('{}\n{}\n', 2).records).toHaveLength(2);
    let error: unknown;
    try {
      parseNdjson('{}\n{}\n{}\n', 2);
    } catch (err) {
      error = err;
    }
    expect((error as HttpError).kind).toBe('payload_too_large');
    expect((error as HttpError).message).toMatch(/more than max_ingest_records 2/);
  });
});

describe('recordsOf()', () => {
  it('tells the framing apart', () => {
    expect(recordsOf([{ m: 1 }]).framing).toBe('array');
    expect(recordsOf({ m: 1 })).toEqual({ items: [{ record: { m: 1 } }], framing: 'object' });
    expect(recordsOf(new NdjsonBody([{ m: 1 }])).framing).toBe('ndjson');
  });

  it.each([
    [[{}, null], 1, /record 1 is null/],
    [[[1]], 0, /record 0 is an array/],
    [[{}, {}, 3], 2, /record 2 is a number/],
  ])('rejects a value that is not an object on its own (%j)', (body, index, message) => {
    const { items } = recordsOf(body);
    expect(items).toHaveLength(body.length);
    items.forEach((item, i) => {
      if (i === index) expect((item as { rejected: string }).rejected).toMatch(message);
      else expect(item).toHaveProperty('record');
    });
  });

  it('rejects a record nested too deeply to be written out again, alone', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`);
    const { items } = recordsOf([{ m: 'x' }, deep, { m: 'y' }]);
    expect(items.map((i) => ('record' in i ? 'record' : i.rejected))).toEqual(['record', 'record 1: the record is nested deeper than 100 levels', 'record']);
  });

  it('fails as a whole only for a scalar body or more records than the cap', () => {
    expect(() => recordsOf('just a string')).toThrowError(/the body is a string/);
    expect(() => recordsOf([{}, {}, {}], 2)).toThrowError(/holds 3 records, more than max_ingest_records 2/);
    expect(recordsOf(new NdjsonBody([{}, new InvalidLine('NDJSON line 2 is not valid JSON')])).items[1]).toEqual({ rejected: 'NDJSON line 2 is not valid JSON' });
  });
});
