// SPDX-License-Identifier: MIT
// What the server and the worker do to a record: read its message field, skip it with a reason, or
// add the classification.
import { describe, expect, it } from 'vitest';
import type { ClassificationResult } from '../../src/index.js';
import { enrichRecord } from '../../src/records/enrichRecord.js';
import { readField, skipReason } from '../../src/records/readField.js';

const LABELS = ['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error'];
const result: ClassificationResult = {
  label: 'Malicious',
  score: 0.7,
  scores: { Normal: 0.1, Suspicious: 0.1, Malicious: 0.7, Informational: 0.05, Error: 0.05 },
  logits: [0, 0, 2, -1, -1],
  tokens: 12,
  truncated: false,
  flags: [],
  review: false,
};

describe('readField()', () => {
  it('prefers a literal key, then follows a dotted path', () => {
    expect(readField({ 'log.original': 'flat', log: { original: 'nested' } }, 'log.original')).toBe('flat');
    expect(readField({ log: { original: 'nested' } }, 'log.original')).toBe('nested');
    expect(readField({ log: 'text' }, 'log.original')).toBeUndefined();
    expect(readField({ log: { toString: 1 } }, 'log.constructor')).toBeUndefined();
  });
});

describe('skipReason() and enrichRecord()', () => {
  it('skips what is not a non-blank string', () => {
    expect(skipReason('line', 'message')).toBeUndefined();
    expect(skipReason(42, 'message')).toBe("no string at 'message'");
    expect(skipReason(' \t', 'message')).toBe("'message' is blank");
  });

  it('adds logtriage, or ECS fields merged into an existing event object', () => {
    expect(enrichRecord({ message: 'x', host: 'a' }, result, LABELS, false)).toEqual({
      message: 'x',
      host: 'a',
      logtriage: { label: 'Malicious', score: 0.7, review: false },
    });
    const ecs = enrichRecord({ message: 'x', event: { dataset: 'auth', kind: 'event' } }, result, LABELS, true);
    expect(ecs.event).toEqual({ dataset: 'auth', kind: 'alert', category: ['intrusion_detection'], type: ['info'], risk_score: 75 });
    expect(ecs.logtriage).toEqual({ label: 'Malicious', score: 0.7, review: false });
    expect(enrichRecord({ message: 1 }, "no string at 'message'", LABELS, true)).toEqual({ message: 1, logtriage: { skipped: "no string at 'message'" } });
  });

  it('reports truncation and flags only when present', () => {
    const truncated = { ...result, truncated: true, flags: ['special-token-text' as const] };
    expect(enrichRecord({}, truncated, LABELS, false).logtriage).toEqual({ label: 'Malicious', score: 0.7, truncated: true, flags: ['special-token-text'], review: false });
  });

  it('carries review, and with alert thresholds alert, which decides the ECS event.kind', () => {
    expect(enrichRecord({}, { ...result, review: true }, LABELS, false, true).logtriage).toEqual({ label: 'Malicious', score: 0.7, review: true, alert: true });
    // Malicious maps to an ECS alert, but under a threshold it is an ordinary event.
    const below = enrichRecord({ event: { kind: 'event' } }, result, LABELS, true, false);
    expect(below.event).toMatchObject({ kind: 'event', category: ['intrusion_detection'] });
    expect(below.logtriage).toEqual({ label: 'Malicious', score: 0.7, review: false, alert: false });
    expect(enrichRecord({}, result, LABELS, true, true).event).toMatchObject({ kind: 'alert' });
  });
});
