// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { MessageFormatError } from '../../src/errors.js';
import { decodeMessage } from '../../src/worker/decodeMessage.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('decodeMessage()', () => {
  it('reads a raw line (dropping one trailing newline) into a record under the message field', () => {
    expect(decodeMessage(bytes('sshd: hello\r\n'), 'raw', 'msg')).toEqual({ framed: false, entries: [{ text: 'sshd: hello', record: { msg: 'sshd: hello' } }] });
  });

  it('says what JSON.parse altered in a record (big integer, 1e400, repeated key), per Fluent Bit entry', () => {
    const single = decodeMessage(bytes('{"log":"a","id":12345678901234567890,"x":1e400}'), 'json', 'log');
    expect(single.entries[0]).toMatchObject({ text: 'a', altered: ['number-precision', 'number-overflow'] });
    const flush = decodeMessage(bytes('[[1700000000,{"log":"a","log":"b"}],[1700000001,{"log":"c","n":1}]]'), 'json', 'log');
    expect(flush.entries.map((e) => ('altered' in e ? e.altered : undefined))).toEqual([['duplicate-key'], undefined]);
    expect(decodeMessage(bytes('{"log":"plain","n":9007199254740991}'), 'json', 'log').entries[0]).not.toHaveProperty('altered');
  });

  it('reads the message field of a JSON record, nested by a dotted path', () => {
    const record = { log: { line: 'a b' }, host: 'h' };
    expect(decodeMessage(bytes(JSON.stringify(record)), 'json', 'log.line')).toEqual({ framed: false, entries: [{ text: 'a b', record }] });
  });

  it("reads Fluent Bit's nats framing entry by entry, the timestamp under 'date' unless the record has one, a bad entry alone", () => {
    const flush = [
      [1700000000.25, { tag: 'logs.raw.app', log: 'sshd: one' }],
      [1700000001.5, { tag: 'logs.raw.app', log: '' }],
      'not an entry',
      [1700000002, { tag: 'logs.raw.app', log: 'cron: three', date: 'kept' }],
      [1700000003, ['not', 'a', 'record']],
    ];
    const decoded = decodeMessage(bytes(JSON.stringify(flush)), 'json', 'log');
    expect(decoded.framed).toBe(true);
    if (!decoded.framed) return;
    expect(decoded.raw).toEqual(flush);
    expect(decoded.entries).toHaveLength(5);
    expect(decoded.entries[0]).toEqual({ text: 'sshd: one', record: { tag: 'logs.raw.app', log: 'sshd: one', date: 1700000000.25 } });
    expect(decoded.entries[3]).toEqual({ text: 'cron: three', record: { tag: 'logs.raw.app', log: 'cron: three', date: 'kept' } });
    const errors = [1, 2, 4].map((i) => decoded.entries[i]);
    for (const e of errors) expect(e).toBeInstanceOf(MessageFormatError);
    expect(errors.map((e) => (e as MessageFormatError).message)).toEqual([
      "'log' is empty or whitespace only",
      "array entry 2 is not [timestamp, {record}] (Fluent Bit's nats framing)",
      'the record of array entry 4 is an array, not a JSON object',
    ]);
  });

  it.each([
    ['invalid UTF-8', new Uint8Array([0xc3, 0x28]), 'raw', /not valid UTF-8/],
    ['a blank line', bytes(' \n'), 'raw', /empty or whitespace/],
    ['not JSON', bytes('{oops'), 'json', /not JSON/],
    ['a JSON string', bytes('"x"'), 'json', /a string, not a JSON object/],
    ['an empty array', bytes('[]'), 'json', /empty array/],
    ['no message field', bytes('{"log": 1}'), 'json', /no string at 'message'/],
    ['an empty message field', bytes('{"message": ""}'), 'json', /empty or whitespace/],
  ] as const)('refuses %s with MessageFormatError', (_name, data, input, message) => {
    expect(() => decodeMessage(data, input, 'message')).toThrow(MessageFormatError);
    expect(() => decodeMessage(data, input, 'message')).toThrow(message);
  });
});
