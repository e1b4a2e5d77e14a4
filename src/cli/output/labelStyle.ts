// SPDX-License-Identifier: MIT
// Colour on terminals: whether to use it (a TTY, no --no-color, no NO_COLOR, not TERM=dumb) and
// which colour a label gets. Labels are matched by name, since models order them differently;
// a label not named here takes a neutral colour.
import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];
// We decide about colour per stream ourselves; newer Node would otherwise check process.stdout.
const paint = (style: Style, text: string): string => styleText(style, text, { validateStream: false });

export interface ColorContext {
  /** False for --no-color. */
  color: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

/** True when text for `stream` may carry ANSI colour (https://no-color.org: any non-empty NO_COLOR disables it). */
export function colorEnabled(stream: { isTTY?: boolean }, context: ColorContext): boolean {
  if (!context.color || stream.isTTY !== true) return false;
  if ((context.env.NO_COLOR ?? '') !== '') return false;
  return context.env.TERM !== 'dumb';
}

const LABEL_STYLES: Readonly<Record<string, Style>> = {
  malicious: ['bold', 'red'],
  suspicious: ['bold', 'yellow'],
  error: 'magenta',
  informational: 'cyan',
  normal: 'green',
};

/** Paints text in a label's colour, or returns it unchanged when colour is off. */
export type LabelPainter = (label: string, text: string) => string;

export function labelPainter(enabled: boolean): LabelPainter {
  if (!enabled) return (_label, text) => text;
  return (label, text) => paint(LABEL_STYLES[label.toLowerCase()] ?? 'blue', text);
}

/** Dims secondary text (headers, file names) when colour is on. */
export function dimmer(enabled: boolean): (text: string) => string {
  return enabled ? (text) => paint('dim', text) : (text) => text;
}
