// SPDX-License-Identifier: MIT
// /ingest body handling without a model: NDJSON framing, record checks, runs of records answered alike, the cap.
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/server/errors.js';
import { JsonBody, NdjsonText, readIngestItems, type IngestItem, type ReadOptions } from '../../src/server/ingestRecords.js';

const OPTIONS: ReadOptions = { maxRecords: Infinity, messageField: 'm', keepSkipped: false };
const read = (body: unknown, options: Partial<ReadOptions> = {}) => readIngestItems(body, { ...OPTIONS, ...options });
/** Each item as a short string: the record's message, or the run's reason and count. */
const shape = (items: IngestItem[]) => items.map((i) => ('record' in i ? `m=${String(i.record.m)}` : `${'skipped' in i.run ? 'skipped' : 'rejected'}: ${'skipped' in i.run ? i.run.skipped : i.run.rejected} ×${i.records}`));

async function refusal(body: unknown, options: Partial<ReadOptions>): Promise<HttpError> {
  try {
    await read(body, options);
  } catch (err) {
    return err as HttpError;
  }
  throw new Error('expected a refusal');
}

describe('readIngestItems() on NDJSON', () => {
  it('reads LF and CRLF lines, skips blank ones, and keeps the order', async () => {
    const { items, framing, count } = await read(new NdjsonText('{"m":"a"}\r\n\n  \n{"m":"b"}\n{"m":"c"}'));
    expect(framing).toBe('ndjson');
    expect(count).toBe(3);
    expect(shape(items)).toEqual(['m=a', 'm=b', 'm=c']);
  });

  it('rejects a line that is not JSON on its own, and keeps the lines around it', async () => {
    const { items } = await read(new NdjsonText('{"m":"a"}\n\n{"m":\n{"m":"d"}'));
    expect(shape(items)).toEqual(['m=a', 'rejected: not valid JSON ×1', 'm=d']);
  });

  it('answers consecutive records skipped or rejected for one reason as one run, however many', async () => {
    const body = `${'{}\n'.repeat(5000)}{"m":"x"}\n${'{"m":" "}\n'.repeat(3)}${'oops\n'.repeat(4)}7\n{"m":1}\n{}\n`;
    const { items, count } = await read(new NdjsonText(body), { sliceRecords: 64 });
    expect(count).toBe(5000 + 1 + 3 + 4 + 3);
    expect(shape(items)).toEqual([
      "skipped: no string at 'm' ×5000",
      'm=x',
      "skipped: 'm' is blank ×3",
      'rejected: not valid JSON ×4',
      'rejected: a number, not a JSON object ×1',
      "skipped: no string at 'm' ×2",
    ]);
    // Nothing per skipped record is kept unless --forward needs it.
    expect(items[0]).not.toHaveProperty('kept');
    const kept = await read(new NdjsonText('{"a":1}\n{"a":2}\n'), { keepSkipped: true });
    expect(kept.items).toEqual([{ run: { skipped: "no string at 'm'" }, records: 2, kept: [{ record: { a: 1 } }, { record: { a: 2 } }] }]);
  });

  it('keeps a skipped record JSON.parse altered apart from the run of the others', async () => {
    const { items } = await read(new NdjsonText('{}\n{"n":12345678901234567890}\n{}\n'));
    expect(items.map((i) => ('run' in i ? [i.run, i.records] : i))).toEqual([
      [{ skipped: "no string at 'm'" }, 1],
      [{ skipped: "no string at 'm'", altered: ['number-precision'] }, 1],
      [{ skipped: "no string at 'm'" }, 1],
    ]);
  });

  it('stops at more than maxRecords lines with a 413 naming the cap', async () => {
    expect((await read(new NdjsonText('{}\n{}\n'), { maxRecords: 2 })).count).toBe(2);
    const error = await refusal(new NdjsonText('{}\n{}\n{}\n'), { maxRecords: 2 });
    expect(error.kind).toBe('payload_too_large');
    expect(error.message).toMatch(/more than max_ingest_records 2/);
  });
});

describe('readIngestItems() on JSON', () => {
  it('tells the framing apart', async () => {
    expect((await read([{ m: 'a' }])).framing).toBe('array');
    expect(await read({ m: 'a' })).toEqual({ items: [{ record: { m: 'a' } }], framing: 'object', count: 1 });
    expect((await read(new JsonBody({ m: 'a' }))).framing).toBe('object');
  });

  it.each([
    [[{ m: 'a' }, null], 'rejected: null, not a JSON object ×1'],
    [[[1], { m: 'a' }], 'rejected: an array, not a JSON object ×1'],
    [[{ m: 'a' }, 3], 'rejected: a number, not a JSON object ×1'],
  ])('rejects a value that is not an object on its own (%j)', async (body, reason) => {
    const { items } = await read(body);
    expect(shape(items)).toContain(reason);
    expect(shape(items)).toContain('m=a');
  });

  it('rejects a record nested too deeply to be written out again, alone', async () => {
    const deep = JSON.parse(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`);
    const { items } = await read([{ m: 'x' }, deep, { m: 'y' }]);
    expect(shape(items)).toEqual(['m=x', 'rejected: the record is nested deeper than 100 levels ×1', 'm=y']);
  });

  it('fails as a whole only for a scalar body or more records than the cap', async () => {
    expect((await refusal('just a string', {})).message).toMatch(/the body is a string/);
    expect((await refusal([{}, {}, {}], { maxRecords: 2 })).message).toMatch(/holds 3 records, more than max_ingest_records 2/);
  });
});
