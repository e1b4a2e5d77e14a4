// SPDX-License-Identifier: MIT
// What a label name may hold, checked where a checkpoint is converted and where a GGUF is loaded:
// labels are printed in tables and on terminals and used as JSON keys and CSV column names, where
// a control character (C0, DEL, C1), a bidi control or a line separator has no place.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;

/** The first control or bidi character of `label` as `U+XXXX`, or undefined when it has none. */
export function unprintableLabelChar(label: string): string | undefined {
  const char = UNPRINTABLE.exec(label)?.[0];
  return char === undefined ? undefined : `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
