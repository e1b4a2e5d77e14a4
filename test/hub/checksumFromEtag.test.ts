// SPDX-License-Identifier: MIT
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HubError } from '../../src/errors.js';
import { checksumFromEtag, normalizeEtag } from '../../src/hub/checksumFromEtag.js';

const digestOf = (etag: string, content: string): string => {
  const checksum = checksumFromEtag(etag, Buffer.byteLength(content), 'f');
  checksum.update(Buffer.from(content));
  return checksum.digest();
};

describe('checksumFromEtag()', () => {
  it('computes git blob ids for 40-digit ETags (as `git hash-object`)', () => {
    // `printf 'hello\\n' | git hash-object --stdin` and the empty blob.
    expect(digestOf('"ce013625030ba8dba906f756967f9e9ca394464a"', 'hello\n')).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    expect(digestOf('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391', '')).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
  });

  it('computes sha256 for 64-digit ETags, chunk by chunk', () => {
    const expected = createHash('sha256').update('hello world').digest('hex');
    const checksum = checksumFromEtag(`"${expected.toUpperCase()}"`, 11, 'f');
    checksum.update(Buffer.from('hello '));
    checksum.update(Buffer.from('world'));
    expect(checksum).toMatchObject({ algorithm: 'sha256', expected });
    expect(checksum.digest()).toBe(expected);
  });

  it('refuses an ETag it cannot verify against', () => {
    expect(() => checksumFromEtag('"d41d8cd98f00b204e9800998ecf8427e"', 0, 'weights.bin')).toThrow(HubError);
    expect(() => checksumFromEtag('"d41d8cd98f00b204e9800998ecf8427e"', 0, 'weights.bin')).toThrow(/Cannot verify weights\.bin/);
  });

  it('normalizes weak and quoted ETags', () => {
    expect(normalizeEtag('W/"ABC"')).toBe('abc');
    expect(normalizeEtag(' "abc" ')).toBe('abc');
    expect(normalizeEtag('abc')).toBe('abc');
  });
});
