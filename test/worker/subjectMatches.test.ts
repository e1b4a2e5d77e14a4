// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { subjectMatches } from '../../src/worker/subjectMatches.js';

describe('subjectMatches()', () => {
  it.each([
    ['logs.raw.>', 'logs.raw.app', true],
    ['logs.raw.>', 'logs.raw.app.nginx', true],
    ['logs.raw.>', 'logs.raw', false],
    ['logs.*', 'logs.classified', true],
    ['logs.*', 'logs.classified.x', false],
    ['logs.*.x', 'logs.a.x', true],
    ['logs.raw', 'logs.raw', true],
    ['logs.raw', 'logs.rawx', false],
    ['>', 'anything.at.all', true],
    ['logs.>', 'logsx.a', false],
  ])('%s captures %s: %s', (filter, subject, expected) => {
    expect(subjectMatches(filter, subject)).toBe(expected);
  });
});
