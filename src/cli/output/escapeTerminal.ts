// SPDX-License-Identifier: MIT
// Makes untrusted text safe to print on a terminal. A log line can carry C0 controls (ESC starts
// CSI/OSC sequences that move the cursor, recolour or retitle; BS and CR overwrite what was
// printed), C1 controls (U+009B is an 8-bit CSI, U+009D an 8-bit OSC) and bidi overrides that
// reorder what is shown (Trojan Source). Each becomes a visible escape, so ESC itself is gone and
// whatever followed it (`[31m`, `]0;title`) is plain text.

// C0 controls, DEL, C1 controls, and the Unicode bidi controls (ALM, LRM/RLM, LRE..RLO, LRI..PDI)
// plus the line and paragraph separators some terminals treat as newlines.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu;

// What UNSAFE matches minus C0, which JSON.stringify already escapes inside strings (and a raw
// newline outside strings is indentation).
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu;

const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\b': '\\b' };

function visible(ch: string): string {
  const named = NAMED[ch];
  if (named !== undefined) return named;
  const code = ch.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control, C1 and bidi character shown as an escape (`\x1b`, `\b`, `\x9b`, `\u202e`). */
export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, visible);
}

// UNSAFE but the line feed: multi-line reports keep their lines.
const UNSAFE_BUT_LF = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu;

/**
 * A multi-line report (tables, summaries) with everything escapeTerminal escapes but its line
 * feeds: what eval, calibrate, info, verify and bench print goes through here on the way out,
 * so a label, a file name or a metadata key read from a file cannot drive the terminal.
 */
export function escapeTerminalText(text: string): string {
  return text.replace(UNSAFE_BUT_LF, visible);
}

/** `value` as JSON (indented by `indent`) that cannot drive a terminal: escapeJsonForTerminal(JSON.stringify()). */
export function terminalJson(value: unknown, indent?: number): string {
  return escapeJsonForTerminal(JSON.stringify(value, null, indent));
}

/**
 * JSON text with the characters JSON.stringify leaves raw (C1 controls, bidi controls, U+2028/9)
 * written as \u escapes: the same JSON value, but `cat`-ing the file cannot drive the terminal.
 */
export function escapeJsonForTerminal(json: string): string {
  return json.replace(RAW_IN_JSON, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}
