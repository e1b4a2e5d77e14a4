// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { escapeJsonForTerminal, escapeTerminal, escapeTerminalText, terminalJson } from '../../../src/cli/output/escapeTerminal.js';

// Anything a terminal acts on: C0 (but not printable ASCII), DEL, C1, bidi controls, LS/PS.
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;
const ACTIVE_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;

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

describe('escapeTerminalText()', () => {
  it('escapes as escapeTerminal does but keeps line feeds, so a multi-line report keeps its lines', () => {
    const report = 'label       F1\nErr\u001b]0;x\u0007   0.5\r\nabc\u202e\u009b   1.0\n';
    const out = escapeTerminalText(report);
    expect(out).not.toMatch(ACTIVE_BUT_LF);
    expect(out.split('\n')).toEqual(['label       F1', 'Err\\x1b]0;x\\x07   0.5\\r', 'abc\\u202e\\x9b   1.0', '']);
  });
});

describe('terminalJson()', () => {
  it('is JSON.stringify with what it leaves raw escaped: the same value', () => {
    const value = { label: 'a\u202eb\u009b', n: [1] };
    expect(terminalJson(value, 2)).not.toMatch(/[\u007f-\u009f\u202e]/u);
    expect(JSON.parse(terminalJson(value, 2))).toEqual(value);
  });
});
