// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { escapeHtml, fixed, pct } from '../../src/evaluation/htmlText.js';

describe('escapeHtml()', () => {
  it('escapes markup characters and shows control characters and bidi overrides as escapes', () => {
    expect(escapeHtml(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;');
    expect(escapeHtml('\u001b[31mred\u0000\u009b')).toBe('\\x1b[31mred\\x00\\x9b');
    expect(escapeHtml('abc\u202Eexe.txt\u2066')).toBe('abc\\u{202e}exe.txt\\u{2066}');
    expect(escapeHtml('tab\there\nnewline é 日本')).toBe('tab\there\nnewline é 日本');
  });
});

describe('fixed() and pct()', () => {
  it('format to three decimals and to a percentage with one', () => {
    expect(fixed(0.12345)).toBe('0.123');
    expect(pct(0.12345)).toBe('12.3%');
  });
});
