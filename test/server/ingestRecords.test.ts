// SPDX-License-Identifier: MIT
// /ingest body handling without a model: NDJSON framing, record checks, runs of records answered alike, the cap.
import { describe, expect, it, vi } from 'vitest';
import { HttpError } from '../../src/server/errors.js';
import { BodyChunks } from '../../src/server/bodyChunks.js';
import { JsonBody, JudgedArray, NdjsonText, parseJsonBody, readIngestItems, readJsonBody, type IngestItem, type ReadOptions } from '../../src/server/ingestRecords.js';

/** The body as a socket might deliver it: its UTF-8 bytes in chunks of `size` bytes (multi-byte characters split). */
function inChunks(text: string | Buffer, size: number): BodyChunks {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return new BodyChunks(chunks, bytes.length);
}
const CHUNK_SIZES = [1, 2, 3, 5, 64];

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


/** `work`'s result, and how many turns the event loop had while it ran. */
async function countTurns<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { result: await work(), turns };
  } finally {
    running = false;
  }
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

describe('readJsonBody(): a JSON array read element by element', () => {
  /** What the whole-body JSON.parse gave (the answer before), and what the element-by-element read gives. */
  async function bothWays(text: string, options: Partial<ReadOptions> = {}) {
    const outcome = async (read: () => Promise<unknown>) => {
      try {
        const { items, framing, count } = await readIngestItems(await read(), { ...OPTIONS, ...options });
        const records = items.flatMap((i) => ('record' in i ? [i.record] : (i.kept ?? []).map((k) => k.record)));
        // JSON.stringify keeps a lone surrogate apart from U+FFFD, and an own `__proto__` apart from a prototype.
        return { items: JSON.stringify(items), framing, count, ownProto: records.map((r) => Object.hasOwn(r, '__proto__')), prototypes: records.map((r) => Object.getPrototypeOf(r) === Object.prototype) };
      } catch (err) {
        return { status: (err as HttpError).kind, message: (err as Error).message };
      }
    };
    const options_ = { ...OPTIONS, ...options };
    const whole = await outcome(async () => parseJsonBody(text));
    const sliced = await outcome(() => readJsonBody(text, options_));
    // Read in pieces as received: each split the same as the whole text.
    for (const size of CHUNK_SIZES) expect(await outcome(() => readJsonBody(inChunks(text, size), options_)), `in chunks of ${size} bytes`).toEqual(sliced);
    return { whole, sliced };
  }

  it.each([
    ['proto keys, repeated keys, a lone surrogate, big and huge numbers, -0', '[{"m":"a","__proto__":{"x":1}},{"m":"b","constructor":{"prototype":{"y":1}}},{"a":1,"a":2},{"m":"\\ud800 lone \\udc00"},{"n":12345678901234567890},{"n":1e400},{"d":-0},{"m":"\\u0041\\n"}]'],
    ['strings holding brackets, commas, quotes and backslashes', '[{"m":"a,]}\\"[{"},{"m":"\\\\"},{"m":"\\\\\\""},"],[",{"k,]":"v"}]'],
    ['JSON whitespace everywhere', ' \n[ {} ,\t{"m":"x"}\r\n,\n[ ] ] \r\n'],
    ['nested arrays and scalars', '[[1,[2,{"a":[]}]],null,"x",1,true,false,{"m":"y","a":[{},{}]}]'],
    ['a record nested 5,000 levels deep between two others', `[{"m":"x"},${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},{"m":"y"}]`],
    ['an empty array', '[]'],
    ['an empty array with spaces', ' [ \n ] '],
    ['unicode keys and values', '[{"m":"é ☃ 😀","clé":"v"},{"m":"\\ud83d\\ude00"}]'],
  ])('reads each record exactly as JSON.parse of the whole body: %s', async (_name, text) => {
    const { whole, sliced } = await bothWays(text, { sliceRecords: 2 });
    expect(whole).not.toHaveProperty('status');
    expect(sliced).toEqual(whole);
  });

  it.each(['[', '[1,]', '[,1]', '[{}', '[{}]x', '[{"a":}]', '\uFEFF[{}]', '[{]}', '["unterminated]', '[1 2]', '[{} {}]', '[01]', '[{}]]', '[{"a":1}}]', '[tru]', '[{},{},', '[] []'])(
    'refuses a body that is not JSON (%j) with JSON.parse’s own 400, as before',
    async (text) => {
      const { whole, sliced } = await bothWays(text);
      expect(whole).toMatchObject({ status: 'bad_request' });
      expect(sliced).toEqual(whole);
    },
  );

  it('refuses more records than the cap with the same 413, parsing no record past the cap', async () => {
    const text = `[${Array(100_000).fill('{"a":1}').join(',')}]`;
    const { whole, sliced } = await bothWays(text, { maxRecords: 10 });
    expect(whole).toMatchObject({ status: 'payload_too_large', message: expect.stringMatching(/holds 100000 records/) });
    expect(sliced).toEqual(whole);
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const read = await readJsonBody(text, { ...OPTIONS, maxRecords: 10 });
      expect(read).toBeInstanceOf(JudgedArray);
      expect(parse.mock.calls.length).toBeLessThanOrEqual(10);
    } finally {
      parse.mockRestore();
    }
    // A body that is not even an array of values past the cap is still the 400 it was.
    expect(await bothWays(`${text.slice(0, -1)},`, { maxRecords: 10 })).toMatchObject({ sliced: { status: 'bad_request' } });
  });

  it('is logged by --log-bodies as the body parsed whole, as before', async () => {
    const text = '[{"m":"a","__proto__":{"x":1}},{},{"n":12345678901234567890},1]';
    expect(JSON.stringify({ body: await readJsonBody(text, OPTIONS) })).toBe(JSON.stringify({ body: parseJsonBody(text) }));
  });

  it('serves the event loop while it reads a big array, and keeps no record it does not need', async () => {
    const text = `[${Array(100_000).fill('{}').join(',')}]`;
    const { result: read, turns } = await countTurns(() => readJsonBody(text, { ...OPTIONS, sliceRecords: 1000 }));
    // The old content parser was one JSON.parse: no turn of the event loop until it returned.
    expect(turns).toBeGreaterThanOrEqual(50);
    expect(read).toBeInstanceOf(JudgedArray);
    expect((read as JudgedArray).items).toEqual([{ run: { skipped: "no string at 'm'" }, records: 100_000 }]);
  });
});

describe('a body read in pieces as it was received (BodyChunks)', () => {
  it('decodes to the text Buffer.toString gives, a multi-byte character or a bad byte split between chunks included', () => {
    const bytes = Buffer.concat([Buffer.from('é ☃ 😀 \r\n'), Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x98]), Buffer.from(' end')]);
    for (const size of CHUNK_SIZES) {
      const body = inChunks(bytes, size);
      expect([...body.pieces()].join('')).toBe(bytes.toString('utf8'));
      expect(body.text()).toBe(bytes.toString('utf8'));
    }
  });

  it('gives NDJSON records exactly as the whole text does: CRLF split between chunks, blank lines, long and bad lines, no final newline', async () => {
    const long = JSON.stringify({ m: `long ${'é☃😀'.repeat(300)}` });
    const text = `{"m":"a"}\r\n\n  \r\n${long}\nnot json\n{"m":"é ☃ 😀"}\r\n{}\n{"__proto__":{"x":1},"m":"p"}\n1\n{"m":"last"}`;
    const whole = await read(new NdjsonText(text));
    expect(whole.count).toBe(8);
    for (const size of CHUNK_SIZES) expect(JSON.stringify(await read(new NdjsonText(inChunks(text, size)), { sliceRecords: 2 })), `in chunks of ${size} bytes`).toBe(JSON.stringify(whole));
    expect(JSON.stringify({ body: new NdjsonText(inChunks(text, 7)) })).toBe(JSON.stringify({ body: text }));
  });
});

describe('readIngestItems() slices by time as well as by count', () => {
  it('serves the event loop within a slice of costly records, however many a slice may hold', async () => {
    // 400 records of 50 KB each: about 20 MB to parse, far more than one slice's few milliseconds.
    const line = JSON.stringify({ m: 'x'.repeat(50_000) });
    const body = `${line}\n`.repeat(400);
    const { result: { count }, turns } = await countTurns(() => read(new NdjsonText(body), { sliceRecords: 1_000_000 }));
    expect(count).toBe(400);
    // A count of records alone (the old slices) gave no turn before all 400 were read.
    expect(turns).toBeGreaterThan(1);
  });
});

describe('a body whose client has gone', () => {
  it('is read no further than the slice in which the client was found gone (499), NDJSON, array read whole, and array element by element', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `{"m":"line ${i}"}`);
    const bodies = [new NdjsonText(lines.join('\n')), new JsonBody(lines.map((l) => JSON.parse(l) as unknown))];
    for (const body of bodies) {
      let looks = 0;
      const err = await refusal(body, { sliceRecords: 100, clientGone: () => ++looks >= 3 });
      expect(err).toBeInstanceOf(HttpError);
      expect(err.status).toBe(499);
      expect(looks).toBe(3);
    }
    let looks = 0;
    const parsed = readJsonBody(`[${lines.join(',')}]`, { ...OPTIONS, sliceRecords: 100, clientGone: () => ++looks >= 3 });
    await expect(parsed).rejects.toMatchObject({ kind: 'cancelled' });
    expect(looks).toBe(3);
    // A client still there is read to the end.
    expect((await read(new NdjsonText(lines.join('\n')), { sliceRecords: 100, clientGone: () => false })).count).toBe(1000);
  });
});
