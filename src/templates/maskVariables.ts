// SPDX-License-Identifier: MIT
// Turns a log message into template tokens: the parts that vary between lines of one event are
// replaced by `<*>` before any clustering, with no per-system rules: URLs, UUIDs, MAC and IP
// addresses (with a port), times, hex numbers, dates written with day and month names, host names (a dotted name ending in a common TLD),
// multi-segment paths, and every run of letters and digits that holds a digit (numbers, ids such as
// `blk_-1608999687919862906`, `node-246`, `core.2312`). Adjacent wildcards joined by punctuation
// become one (`<*>:<*>` -> `<*>`), so a version or a duration with more parts is the same token.
// Tokens are split on blanks. Pure; linear in the message for these regexes (no nested quantifiers).

export const WILDCARD = '<*>';

const TLDS = 'com|net|org|edu|gov|mil|int|io|info|biz|local|lan|arpa|cn|hk|jp|kr|tw|de|uk|fr|ru|br|in|au|ca|us|eu|nl|it|es|se|ch|pl|at|be|dk|fi|no|ro|cz|gr|il|mx|ar|tr|vn|sg|th|id|my|za|nz|ie|pt|hu|ua|co|me|tv|cc';

/** Applied in order; each replaces what it matches by the wildcard. */
const MASKS: readonly RegExp[] = [
  /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s"'<>]+/gi, // URL
  /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, // UUID
  /\b[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}\b/gi, // MAC
  /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\w.])/g, // IPv4[:port]
  /(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])/gi, // IPv6 (and times, masked either way)
  /\b0x[0-9a-f]+\b/gi, // hex
  // A date written with names, 'Fri Jun 17 07:07:00 2005', 'Jun 17, 2005': day and month are variables too.
  /\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]{0,6},?\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}\.?\s+\d{1,2}\b(?:,?\s+\d{4}\b)?(?:\s+\d{1,2}:\d{2}(?::\d{2})?\b)?(?:\s+\d{4}\b)?/g,
  new RegExp(`(?<![\\w.@-])(?:[a-z0-9_-]+\\.)+(?:${TLDS})(?![\\w.-])`, 'gi'), // host name
  /(?<![\w.])(?:[a-z]:)?(?:[\\/][\w.@%+~$-]*){2,}/gi, // path with at least two segments
  /[A-Za-z0-9]*\d[A-Za-z0-9]*/g, // any run of letters and digits holding a digit
  /[+-]?<\*>(?:[.:,/_-]+<\*>)+/g, // <*>.<*>, <*>:<*>, ... -> <*>
  /(?<![A-Za-z0-9*])-<\*>/g, // a negative number (`blk_-<*>` too)
  // A quantity with an abbreviated unit of time or size, or a bound on one, is one variable:
  // '35 ms', '<1 sec', '2.5 GB' (a unit spelt out, '30 seconds', stays a word).
  /(?:[<>]=?|~)?<\*>(?:\s*(?:ms|us|µs|ns|s|secs?|mins?|h|hrs?|[kKMGT]i?B)\b)?/g,
  /(?<=^|\s)(?:\(\)|\[\])(?=\s|$)/g, // an empty () or [] where a value can be
];

/** A parenthesised value, often restating the one before it (`1033 bytes (1.00 KB)`, `1.2.3.4 (host)`): dropped, so lines with and without it align. */
const RESTATED = / ?\(<\*> ?[A-Za-z%]{0,3}\)(?=\s|$)/g;

/** The message with its variable parts masked, as blank-separated tokens. */
export function maskVariables(message: string): string[] {
  let masked = message;
  for (const mask of MASKS) masked = masked.replace(mask, WILDCARD);
  masked = masked.replace(RESTATED, '');
  const tokens: string[] = [];
  for (const token of masked.split(/\s+/)) {
    if (token.length === 0) continue;
    // A list of values (`blk_<*> blk_<*> ...`, `<*> <*> <*>`) is one token, however long.
    if (token === tokens[tokens.length - 1] && token.includes(WILDCARD)) continue;
    tokens.push(token);
  }
  return tokens;
}
