// SPDX-License-Identifier: MIT
// Finds where a raw log line's header ends and its message begins, with no per-system format: it
// reads the leading fields (whitespace- or '|'-separated, a [bracketed] or <angled> group counting
// as one field) and keeps in the header what reads as one: timestamps in the common formats
// (ISO 8601, syslog "Jun 14 15:16:01", Apache "[Sun Dec 04 04:47:44 2005]", epoch seconds, compact
// dates), numbers and ids with digits (pids, sequence numbers, node names), levels (INFO, WARN,
// notice, ...), separators ('-', '|', ':'), and at most two other words (a host, a component, a
// thread; three before epoch seconds) when a level, an epoch, a separator or a `component:` field
// closes them. A `component:` field ends the header, as does a separator after words. The message
// is everything after, never empty when the line is not; a line without a header is all message.
// Pure and linear in the length of the fields it reads (at most MAX_FIELDS of them).

/** The header and the message of one line. `header + message` is the line, minus the blanks between them. */
export interface SplitLine {
  header: string;
  message: string;
}

const MAX_FIELDS = 16;
/** Words (neither timestamps, numbers nor levels) a header may hold before a field that closes it. */
const MAX_PENDING_WORDS = 2;
const MAX_PIPE_CELLS = 6;
const MAX_PIPE_CELL = 256;

const LEVELS = new Set([
  'trace', 'debug', 'dbg', 'info', 'information', 'informational', 'notice', 'warn', 'warning', 'error', 'err', 'severe', 'fatal',
  'critical', 'crit', 'alert', 'emerg', 'emergency', 'failure', 'verbose', 'fine', 'finer', 'finest', 'config',
]);
const MONTHS = new Set(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec']);
const DAYS = new Set(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

type FieldKind = 'time' | 'number' | 'id' | 'epoch' | 'level' | 'group' | 'separator' | 'pipe' | 'component' | 'word';

/** Dates, times and date-times: digits with - / . : , T Z + between them, at least one separator. */
const DATE_TIME = /^[+-]?\d{1,4}(?:[-/.:,T_]\d{1,9})+(?:Z|[+-]\d{2}:?\d{2})?$|^\d{8}[-T_ ]?\d{2}[:.]?\d{2}[:.]?\d{2}(?:[:.,]\d{1,9})?$/;
const NUMBER = /^[+-]?\d+(?:\.\d+)?$/;
const HAS_DIGIT = /\d/;

function strip(field: string): string {
  return field.replace(/^[[(<{]+|[\])>},;]+$/g, '');
}

function kindOf(field: string): FieldKind {
  if (field === '|') return 'pipe';
  if (field === '-' || field === '--' || field === ':' || field === '::' || field === '>' || field === '*') return 'separator';
  const first = field.charCodeAt(0);
  if ((first === 0x5b && field.endsWith(']')) || (first === 0x3c && field.endsWith('>'))) {
    // A [group] holding a level is a level: [notice], <WARN>.
    return LEVELS.has(field.slice(1, -1).toLowerCase()) ? 'level' : 'group';
  }
  const bare = strip(field);
  const lower = bare.replace(/:$/, '').toLowerCase();
  if (LEVELS.has(lower)) return 'level';
  if (MONTHS.has(lower) || DAYS.has(lower)) return 'time';
  if (NUMBER.test(bare)) return /^1\d{9}(?:\.\d+)?$|^1\d{12}$/.test(bare) ? 'epoch' : 'number';
  if (DATE_TIME.test(bare)) return 'time';
  if (field.length > 1 && field.endsWith(':') && !field.endsWith('::')) return 'component';
  if (HAS_DIGIT.test(bare) && /^[\w.:@/-]+$/.test(bare)) return 'id';
  return 'word';
}

/** The end offset of the field starting at `start`: a balanced [group] or <group>, else up to a blank or '|'. */
function fieldEnd(line: string, start: number): number {
  const open = line.charCodeAt(start);
  if (open === 0x5b || open === 0x3c) {
    const close = open === 0x5b ? 0x5d : 0x3e;
    let depth = 0;
    // A group ends at its balanced close; a close glued to more text (`[pid]:`) keeps the field going.
    for (let i = start; i < line.length && i - start < 512; i++) {
      const c = line.charCodeAt(i);
      if (c === open) depth++;
      else if (c === close && --depth === 0) {
        const next = line.charCodeAt(i + 1);
        if (Number.isNaN(next) || next === 0x20 || next === 0x09 || next === 0x7c) return i + 1;
        break;
      }
    }
  }
  if (open === 0x7c) return start + 1;
  let i = start;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x7c) break;
    i++;
  }
  return i;
}

function skipBlanks(line: string, i: number): number {
  while (i < line.length && (line.charCodeAt(i) === 0x20 || line.charCodeAt(i) === 0x09)) i++;
  return i;
}

/** After a pipe closed the header, the cells up to the last of the next few pipes are header too: `time|component|pid|message`. */
function lastPipe(line: string, from: number): number {
  let end = from;
  for (let cells = 0; cells < MAX_PIPE_CELLS; cells++) {
    const pipe = line.indexOf('|', end);
    if (pipe < 0 || pipe - end > MAX_PIPE_CELL) break;
    end = pipe + 1;
  }
  return end;
}

export function splitHeader(line: string): SplitLine {
  let at = skipBlanks(line, 0);
  let end = 0; // where the header ends so far (an offset into line)
  let pending = 0; // words read since `end`, not yet known to be header
  let pendingOther = 0; // other fields read since `end`
  let sawLevel = false;
  let lastClosed: FieldKind | undefined;
  let lastStart = 0; // where the last field read starts
  for (let n = 0; n < MAX_FIELDS && at < line.length; n++) {
    const stop = fieldEnd(line, at);
    lastStart = at;
    const kind = kindOf(line.slice(at, stop));
    let close = false;
    let last = false;
    switch (kind) {
      case 'time':
      case 'number':
      case 'id':
      case 'group':
        if (pending === 0 && (pendingOther === 0 || kind === 'time')) close = true;
        else pendingOther++;
        break;
      case 'epoch':
        // Epoch seconds are a strong sign of a header: up to one more word may come before them.
        close = pending <= MAX_PENDING_WORDS + 1;
        break;
      case 'level':
        close = pending <= MAX_PENDING_WORDS;
        sawLevel = true;
        break;
      case 'pipe':
        if (pending + pendingOther <= MAX_PENDING_WORDS && (end > 0 || pending + pendingOther === 0)) {
          end = lastPipe(line, stop);
          at = line.length; // the message is the rest
        }
        break;
      case 'separator':
        close = pending + pendingOther <= MAX_PENDING_WORDS && (end > 0 || sawLevel);
        // 'host prog -', 'INFO [thread] -', 'prog3.exe -' end a header; 'date time -' goes on.
        last = close && (pending > 0 || sawLevel || lastClosed === 'id');
        break;
      case 'component':
        // 'host prog[pid]:' before a level; after one ('INFO dfs.DataNode:') no word may come first,
        // or 'FATAL instruction address: 0x...' would lose its message.
        close = pending <= (sawLevel ? 0 : 1) && pendingOther <= 1;
        last = close;
        break;
      case 'word':
        pending++;
        break;
    }
    if (at >= line.length) break;
    if (close) {
      end = stop;
      lastClosed = kind;
      pending = 0;
      pendingOther = 0;
      if (last) break;
    } else if (pending > MAX_PENDING_WORDS + 1 || pending + pendingOther > MAX_PENDING_WORDS + 2) {
      break;
    }
    at = skipBlanks(line, stop);
  }
  // A line is never all header: a lone last field ('... 1 warning') is the message.
  if (skipBlanks(line, end) >= line.length && lastStart < end) end = lastStart;
  const messageStart = skipBlanks(line, end);
  return { header: line.slice(0, end).trimEnd(), message: line.slice(messageStart) };
}
