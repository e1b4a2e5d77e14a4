// SPDX-License-Identifier: MIT
// jsonAlterations: what JSON.parse changes silently, found in the text, per array element.
import { describe, expect, it } from 'vitest';
import { jsonAlterations } from '../../src/records/jsonAlterations.js';

const flags = (sets: ReturnType<typeof jsonAlterations>, n: number) => Array.from({ length: n }, (_, i) => [...(sets[i] ?? [])]);

describe('jsonAlterations()', () => {
  it('finds rounded integers, overflowing numbers and repeated keys, per element, and nothing in strings or nested objects of their own', () => {
    const text = '[{"a":1},{"n":12345678901234567890},{"x":1e400,"s":"1e400 and 99999999999999999999"},{"k":1,"k":2},{"o":{"k":1},"p":{"k":2}},{"q":"a\\"b","q":3},[{"z":1,"z":2}]]';
    expect(flags(jsonAlterations(text, true), 7)).toEqual([[], ['number-precision'], ['number-overflow'], ['duplicate-key'], [], ['duplicate-key'], ['duplicate-key']]);
  });

  it('leaves exact numbers alone: safe integers, decimals, exponents in range', () => {
    expect(jsonAlterations('{"a":9007199254740991,"b":-0.5,"c":1e300,"d":[1,2.25,-3e-5]}', false)).toEqual([]);
    expect(flags(jsonAlterations('{"a":[9007199254740993, -1e999], "\\u0061":1}', false), 1)).toEqual([['number-precision', 'number-overflow', 'duplicate-key']]);
  });
});
