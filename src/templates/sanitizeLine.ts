// SPDX-License-Identifier: MIT
// What the template parser reads of a raw line: ANSI/OSC escape sequences removed (a coloured log
// and its plain copy share templates), other control characters turned into blanks, and at most
// `maxLength` UTF-16 units kept (never half a surrogate pair), so a 100 kB line costs what a
// `maxLength` one does in time and in the memory of the template it creates.

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-character escapes.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

export function sanitizeLine(line: string, maxLength: number): string {
  // The escapes are looked for in a bounded prefix only: no regex runs over a 100 kB line.
  let text = line.length > maxLength * 2 ? line.slice(0, maxLength * 2) : line;
  if (text.includes('\x1b') || text.includes('\x9b')) text = text.replace(ESCAPES, '');
  text = text.replace(CONTROLS, ' ');
  if (text.length > maxLength) {
    const cut = text.charCodeAt(maxLength - 1) >= 0xd800 && text.charCodeAt(maxLength - 1) <= 0xdbff ? maxLength - 1 : maxLength;
    text = text.slice(0, cut);
  }
  return text;
}
