// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { colorEnabled, labelPainter } from '../../../src/cli/output/labelStyle.js';

describe('colorEnabled()', () => {
  const tty = { isTTY: true };
  it('is on for a terminal only, and off for --no-color, a non-empty NO_COLOR or TERM=dumb', () => {
    expect(colorEnabled(tty, { color: true, env: { TERM: 'xterm' } })).toBe(true);
    expect(colorEnabled(tty, { color: true, env: { NO_COLOR: '' } })).toBe(true);
    expect(colorEnabled({ isTTY: false }, { color: true, env: {} })).toBe(false);
    expect(colorEnabled({}, { color: true, env: {} })).toBe(false);
    expect(colorEnabled(tty, { color: false, env: {} })).toBe(false);
    expect(colorEnabled(tty, { color: true, env: { NO_COLOR: '1' } })).toBe(false);
    expect(colorEnabled(tty, { color: true, env: { TERM: 'dumb' } })).toBe(false);
  });
});

describe('labelPainter()', () => {
  it('colours known labels by name, unknown ones neutrally, and nothing when off', () => {
    const paint = labelPainter(true);
    expect(paint('MALICIOUS', 'x')).toMatch(/\u001b\[31m/u);
    expect(paint('Normal', 'x')).toMatch(/\u001b\[32m/u);
    expect(paint('something-else', 'x')).toMatch(/\u001b\[34m/u);
    expect(labelPainter(false)('Malicious', 'x')).toBe('x');
  });
});
