// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { escapeJsonForTerminal, escapeTerminal } from '../../../src/cli/output/escapeTerminal.js';

// Anything a terminal acts on: C0 (but not printable ASCII), DEL, C1, bidi controls, LS/PS.
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;

describe('escapeTerminal()', () => {
  it('shows ANSI, OSC, backspace, CR, C1 and bidi characters as escapes', () => {
    const hostile = 'a\u001b]0;pwned\u0007b\u001b[2J\u001b[31mred\bX\rY\u009b31m\u009d0;t\u202eevil\u2066\u0000\u007f\tend';
    const out = escapeTerminal(hostile);
    expect(out).not.toMatch(ACTIVE);
    expect(out).toBe('a\\x1b]0;pwned\\x07b\\x1b[2J\\x1b[31mred\\bX\\rY\\x9b31m\\x9d0;t\\u202eevil\\u2066\\x00\\x7f\\tend');
  });

  it('leaves printable text, including non-ASCII and emoji, alone', () => {
    const text = 'ERROR café 日本語 🚀 C:\\Windows\\System32 "quoted" <tag>';
    expect(escapeTerminal(text)).toBe(text);
  });
});

describe('escapeJsonForTerminal()', () => {
  it('escapes what JSON.stringify leaves raw and keeps the same JSON value', () => {
    const value = { text: 'x\u009b31m\u202eabc\u2028\u001b[0m\u007f', n: 1 };
    const json = JSON.stringify(value, null, 2);
    const safe = escapeJsonForTerminal(json);
    expect(safe).not.toMatch(/[\u007f-\u009f\u202e\u2028]/u);
    expect(safe).toContain('\n'); // indentation is kept
    expect(JSON.parse(safe)).toEqual(value);
  });
});
