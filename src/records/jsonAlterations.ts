// SPDX-License-Identifier: MIT
// What JSON.parse changes in a record without a word, found in the text it parsed: an integer past
// 2^53 comes back rounded (12345678901234567890 → 12345678901234567000), a number past the double
// range becomes Infinity (and is written out again as null), and of a key given twice only the
// last value is kept. /ingest and the worker pass the parsed record on, so such a record is flagged
// (`logtriage.altered`) rather than silently changed. One pass over the text, no recursion.

export type Alteration = 'number-precision' | 'number-overflow' | 'duplicate-key';

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** Finds the end of the string starting at `start` (a quote); returns the index of its closing quote. */
export function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++; // a backslash: skip what it escapes
    else if (c === 0x22) return i;
  }
  return text.length;
}

// A module function, not a closure per call: jsonAlterations runs once per /ingest array element.
function mark(found: Array<Set<Alteration>>, element: number, what: Alteration): void {
  (found[element] ??= new Set()).add(what);
}

/**
 * The alterations in `text` (JSON that parses): one set per element of a top-level array when
 * `perElement`, else one set for the whole value.
 */
export function jsonAlterations(text: string, perElement: boolean): Array<Set<Alteration>> {
  const found: Array<Set<Alteration>> = [];
  // Per open container: its keys so far (objects), and whether the next string is a key.
  const stack: Array<{ keys?: Set<string>; expectKey: boolean }> = [];
  let element = perElement ? -1 : 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '{' || c === '[') {
      stack.push(c === '{' ? { keys: new Set(), expectKey: true } : { expectKey: false });
      if (perElement && stack.length === 1 && c === '[') element = 0;
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1);
      if (top?.keys) top.expectKey = true;
      if (perElement && stack.length === 1) element++;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      const top = stack.at(-1);
      if (top?.keys && top.expectKey) {
        // The backslash is looked for within the key only: indexOf over the rest of the text, per
        // key, made a 2 MB JSON array of small records quadratic.
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (top.keys.has(key)) mark(found, Math.max(element, 0), 'duplicate-key');
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (match === null) continue;
      const value = Number(match[0]);
      if (!Number.isFinite(value)) mark(found, Math.max(element, 0), 'number-overflow');
      else if (match[1] === undefined && match[2] === undefined && !Number.isSafeInteger(value)) mark(found, Math.max(element, 0), 'number-precision');
      i += match[0].length - 1;
    }
  }
  return found;
}
