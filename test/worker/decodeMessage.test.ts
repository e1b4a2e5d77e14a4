// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { MessageFormatError } from '../../src/errors.js';
import { decodeMessage } from '../../src/worker/decodeMessage.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('decodeMessage()', () => {
  it('reads a raw line (dropping one trailing newline) into a record under the message field', () => {
    expect(decodeMessage(bytes('sshd: hello\r\n'), 'raw', 'msg')).toEqual({ text: 'sshd: hello', record: { msg: 'sshd: hello' } });
  });

  it('reads the message field of a JSON record, nested by a dotted path', () => {
    const record = { log: { line: 'a b' }, host: 'h' };
    expect(decodeMessage(bytes(JSON.stringify(record)), 'json', 'log.line')).toEqual({ text: 'a b', record });
  });

  it.each([
    ['invalid UTF-8', new Uint8Array([0xc3, 0x28]), 'raw', /not valid UTF-8/],
    ['a blank line', bytes(' \n'), 'raw', /empty or whitespace/],
    ['not JSON', bytes('{oops'), 'json', /not JSON/],
    ['a JSON string', bytes('"x"'), 'json', /a string, not a JSON object/],
    ['no message field', bytes('{"log": 1}'), 'json', /no string at 'message'/],
    ['an empty message field', bytes('{"message": ""}'), 'json', /empty or whitespace/],
  ] as const)('refuses %s with MessageFormatError', (_name, data, input, message) => {
    expect(() => decodeMessage(data, input, 'message')).toThrow(MessageFormatError);
    expect(() => decodeMessage(data, input, 'message')).toThrow(message);
  });
});
