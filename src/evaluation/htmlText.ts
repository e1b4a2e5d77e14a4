// SPDX-License-Identifier: MIT
// Text into the eval report's HTML: escaping (log lines and labels are attacker-written) and the
// two number formats every section uses.

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML element content and quoted attributes. Control characters and bidi
 * overrides (which can make a log line display as something else) are shown as \xHH / \u{HHHH}.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, (ch) => {
    const named = HTML_ESCAPES[ch];
    if (named) return named;
    const code = ch.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
export const fixed = (x: number): string => x.toFixed(3);
