// SPDX-License-Identifier: MIT
// NATS subject matching, to refuse a worker whose output would flow back into its own input.

/** True when `filter` (tokens may be `*`, the last may be `>`) captures the concrete `subject`. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}
