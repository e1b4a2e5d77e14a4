// SPDX-License-Identifier: MIT
// `logtriage classify [files… | -]`: streams lines from files (plain or .gz) or stdin, classifies
// them in chunks through the library and writes one record per non-blank line to stdout, in input
// order, as JSON Lines, CSV, a table or ECS. Progress, notices and the summary go to stderr.
// --follow keeps reading appended lines (tail -F) until Ctrl-C.
import { InvalidArgumentError } from 'commander';
import { constants, createReadStream, type ReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { once, setMaxListeners } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { LogClassifier } from '../../LogClassifier.js';
import { openClassifier } from '../openClassifier.js';
import { isBlankText } from '../../engine/LinePreparer.js';
import { AbortError, ValidationError } from '../../errors.js';
import type { OpenOptions } from '../../options.js';
import { followLogLines, mergeSources, type FollowOptions } from '../../lines/followFile.js';
import { chunkWhenIdle, readLogLines, untilAborted, type LogLine, type ReadLogLinesOptions } from '../../lines/readLogLines.js';
import { summaryBlock, summaryLine, templateTierLine, type ClassifySummary } from '../output/classifySummary.js';
import { escapeTerminal } from '../output/escapeTerminal.js';
import { colorEnabled, labelPainter } from '../output/labelStyle.js';
import { NO_PROGRESS, progressBar, type Progress } from '../output/progressBar.js';
import type { ClassifiedLine, OutputFormat } from '../output/recordTypes.js';
import { createRecordWriter } from '../output/recordWriter.js';

export interface ClassifyCommandOptions {
  /** GGUF path or pulled hub repo id; undefined: the pulled default model. */
  model?: string;
  /** Default: table when stdout is a terminal, else jsonl. */
  format?: OutputFormat;
  scores: boolean;
  text: boolean;
  /** Keep only these labels (matched case-insensitively against the model's). */
  only?: string[];
  /** Keep only records whose score is at least this. */
  minScore?: number;
  /** 'only': write only records needing review; 'exclude': only those that do not. Needs `open.review`. */
  reviewFilter?: 'only' | 'exclude';
  /** Alert thresholds file (`eval --thresholds-out`): each record gets `alert`. */
  thresholds?: string;
  /** Write only records with `alert: true`. Needs `thresholds`. */
  onlyAlerts?: boolean;
  follow: boolean;
  /** No progress, notices or summary. */
  quiet: boolean;
  /** False for --no-color. */
  color: boolean;
  /** Most lines handed to the library per call. */
  chunkLines: number;
  /** Longest line read (bytes); default DEFAULT_MAX_LINE_BYTES. */
  maxLineBytes?: number;
  open: OpenOptions;
}

/** The flags as commander parses them (src/cli/main.ts), the model flags aside (modelFlags.ts). */
export interface ClassifyFlags {
  model?: string;
  format?: OutputFormat;
  scores?: boolean;
  text?: boolean;
  only?: string[];
  minScore?: number;
  follow?: boolean;
  quiet?: boolean;
  /** False for --no-color. */
  color: boolean;
  onlyReview?: boolean;
  /** False for --no-review. */
  review: boolean;
  thresholds?: string;
  onlyAlerts?: boolean;
  maxLineBytes?: number;
}

type Terminal = { isTTY?: boolean };

export interface ClassifyIo {
  stdin: Readable;
  stdout: Writable & Terminal;
  stderr: Writable & Terminal;
  env: Readonly<Record<string, string | undefined>>;
}

const defaultIo: ClassifyIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };

/** Classification calls in flight at once: the next chunk is tokenized while one decodes. */
const CHUNKS_IN_FLIGHT = 2;

interface SourcedLine extends LogLine {
  /** undefined for stdin */
  file?: string;
  readAt: Date;
}

/** Model labels named by --only, or an error that lists the valid ones. */
function resolveOnly(names: readonly string[], labels: readonly string[]): Set<string> {
  const byLowerCase = new Map(labels.map((l) => [l.toLowerCase(), l]));
  const unknown = names.filter((n) => !byLowerCase.has(n.toLowerCase()));
  if (unknown.length > 0) {
    const list = unknown.map((n) => `'${n}'`).join(', ');
    throw new ValidationError(`Unknown label ${list} in --only; this model's labels are: ${labels.join(', ')}`);
  }
  return new Set(names.map((n) => byLowerCase.get(n.toLowerCase())!));
}

/** Refuses inputs that cannot work before the model is loaded; a followed file may appear later. */
async function checkInputs(inputs: readonly string[], follow: boolean): Promise<void> {
  if (inputs.filter((f) => f === '-').length > 1) throw new ValidationError("stdin ('-') can be read only once");
  if (follow) {
    const gz = inputs.find((f) => f.endsWith('.gz'));
    if (gz !== undefined) throw new ValidationError(`--follow cannot follow a compressed file (${gz}): it is not appended to line by line`);
    return;
  }
  for (const file of inputs) if (file !== '-') await access(file, constants.R_OK);
}

/** Sum of the inputs' sizes when all are regular files, for the progress bar's ETA. */
async function totalBytes(inputs: readonly string[]): Promise<number | undefined> {
  if (inputs.includes('-')) return undefined;
  let total = 0;
  for (const file of inputs) {
    const s = await stat(file);
    if (!s.isFile()) return undefined;
    total += s.size;
  }
  return total;
}

/** The lines of the inputs, read one after another, or with --follow all at once as they grow. */
interface LineSource {
  lines: AsyncGenerator<SourcedLine>;
  /** Bytes read from the input files so far (compressed bytes for .gz). */
  bytesRead(): number;
  /** Releases what the source opened (stdin included), even while a read is pending. */
  close(): void;
}

function openLineSource(inputs: readonly string[], io: ClassifyIo, follow: FollowOptions | undefined, reading: ReadLogLinesOptions): LineSource {
  const opened: Readable[] = [];
  let fileBytesDone = 0;
  let current: ReadStream | undefined;

  async function* plainLines(): AsyncGenerator<SourcedLine> {
    for (const input of inputs) {
      const file = input === '-' ? undefined : input;
      let stream: Readable;
      if (file === undefined) {
        stream = io.stdin;
      } else {
        current = createReadStream(file);
        stream = file.endsWith('.gz') ? current.pipe(createGunzip()) : current;
        if (stream !== current) opened.push(current);
      }
      opened.push(stream);
      for await (const line of readLogLines(stream, reading)) yield { ...line, file, readAt: new Date() };
      if (current) fileBytesDone += current.bytesRead;
      current = undefined;
    }
  }

  async function* followedLines(options: FollowOptions): AsyncGenerator<SourcedLine> {
    const sources = inputs.map(async function* (input): AsyncGenerator<SourcedLine> {
      if (input === '-') {
        opened.push(io.stdin);
        for await (const line of readLogLines(io.stdin, reading)) yield { ...line, readAt: new Date() };
        return;
      }
      for await (const line of followLogLines(input, options)) yield { ...line, file: input, readAt: new Date() };
    });
    yield* mergeSources(sources);
  }

  return {
    lines: follow ? followedLines(follow) : plainLines(),
    bytesRead: () => fileBytesDone + (current?.bytesRead ?? 0),
    close: () => {
      for (const stream of opened) stream.destroy();
    },
  };
}

export async function classifyCommand(files: string[], options: ClassifyCommandOptions, io: ClassifyIo = defaultIo): Promise<ClassifySummary> {
  const inputs = files.length > 0 ? files : ['-'];
  await checkInputs(inputs, options.follow);
  if (options.reviewFilter !== undefined && options.open.review === undefined) {
    throw new ValidationError(`--${options.reviewFilter === 'only' ? 'only-review' : 'no-review'} needs --review-min-score or --review-min-margin`);
  }
  if (options.onlyAlerts && options.thresholds === undefined) throw new ValidationError('--only-alerts needs --thresholds');
  const clf = await openClassifier(options.model, options.open, options.thresholds);
  try {
    const summary = await classifyInputs(clf, inputs, options, io);
    const tier = clf.stats().templateTier;
    if (tier !== undefined && !options.quiet) io.stderr.write(`logtriage: ${templateTierLine(tier)}`);
    return summary;
  } finally {
    await clf.dispose();
  }
}

async function classifyInputs(
  clf: LogClassifier,
  inputs: readonly string[],
  options: ClassifyCommandOptions,
  io: ClassifyIo,
): Promise<ClassifySummary> {
  const started = performance.now();
  const labels = clf.labels;
  const only = options.only && options.only.length > 0 ? resolveOnly(options.only, labels) : undefined;
  const reviewing = options.open.review !== undefined;
  const filtered = only !== undefined || options.minScore !== undefined || options.reviewFilter !== undefined || options.onlyAlerts === true;
  const keep = (r: ClassifiedLine) =>
    (only === undefined || only.has(r.label)) &&
    (options.minScore === undefined || r.score >= options.minScore) &&
    (options.reviewFilter === undefined || r.review === (options.reviewFilter === 'only')) &&
    (!options.onlyAlerts || r.alert === true);

  const stdoutTerminal = io.stdout.isTTY === true;
  const writer = createRecordWriter(options.format ?? (stdoutTerminal ? 'table' : 'jsonl'), {
    labels,
    scores: options.scores,
    text: options.text,
    terminal: stdoutTerminal,
    color: colorEnabled(io.stdout, { color: options.color, env: io.env }),
    manyInputs: inputs.length > 1,
    review: reviewing,
    alerts: clf.info.alertThresholds !== null,
    templateTier: clf.stats().templateTier !== undefined,
  });
  const notice = (message: string) => {
    if (!options.quiet) io.stderr.write(`logtriage: ${escapeTerminal(message)}\n`);
  };

  // Everything that may throw comes before the handlers below are installed.
  let progress: Progress = NO_PROGRESS;
  // The bar shares the terminal with nothing else only when the records go elsewhere.
  if (io.stderr.isTTY === true && !options.quiet && !stdoutTerminal) {
    const total = options.follow ? undefined : await totalBytes(inputs);
    progress = progressBar({ stream: io.stderr, verb: options.follow ? 'following' : 'classifying', totalBytes: total });
  }

  // Ctrl-C: with --follow the first one stops reading (what was read is still classified and
  // written) and a second one cancels; without --follow it cancels, which exits non-zero.
  const stopReading = new AbortController();
  const cancel = new AbortController();
  // The library listens on the signal once per queued line.
  setMaxListeners(options.chunkLines * (CHUNKS_IN_FLIGHT + 1), cancel.signal);
  const onSigint = () => {
    if (options.follow && !stopReading.signal.aborted) {
      stopReading.abort();
      return;
    }
    cancel.abort(new AbortError('Interrupted (SIGINT)'));
    stopReading.abort();
  };
  process.on('SIGINT', onSigint);

  // A closed stdout (`| head`) ends the run quietly, like other Unix tools; other write errors fail it.
  let outputError: NodeJS.ErrnoException | undefined;
  const onOutputError = (err: NodeJS.ErrnoException) => {
    outputError = err;
    stopReading.abort();
  };
  io.stdout.on('error', onOutputError);

  const source = openLineSource(
    inputs,
    io,
    options.follow ? { signal: stopReading.signal, onNotice: notice, maxLineBytes: options.maxLineBytes } : undefined,
    { maxLineBytes: options.maxLineBytes },
  );

  let blank = 0;
  async function* nonBlank(lines: AsyncIterable<SourcedLine>): AsyncGenerator<SourcedLine> {
    for await (const line of lines) {
      if (isBlankText(line.text, options.open.rejectWhitespace)) blank++;
      else yield line;
    }
  }

  const summary: ClassifySummary = { lines: 0, blank: 0, written: 0, perLabel: Object.fromEntries(labels.map((l) => [l, 0])), seconds: 0 };

  const emit = async (chunk: SourcedLine[], results: Awaited<ReturnType<LogClassifier['classifyMany']>>) => {
    const records: ClassifiedLine[] = chunk.map((line, i) => {
      const r = results[i]!;
      return {
        ...(line.file !== undefined ? { file: line.file } : {}),
        line: line.lineNumber,
        text: line.text,
        label: r.label,
        score: r.score,
        scores: r.scores,
        flags: [...(line.invalidUtf8 ? ['invalid-utf8'] : []), ...(line.truncated ? ['line-truncated'] : []), ...r.flags],
        // The model saw part of the line either way: cut to --max-line-bytes, or to its token budget.
        truncated: r.truncated || line.truncated,
        readAt: line.readAt,
        ...(reviewing ? { review: r.review } : {}),
        ...(r.alert !== undefined ? { alert: r.alert } : {}),
        ...(r.via !== undefined ? { via: r.via, templateId: r.template!.id } : {}),
        model: r.model,
      };
    });
    for (const r of records) summary.perLabel[r.label] = (summary.perLabel[r.label] ?? 0) + 1;
    summary.lines += records.length;
    const kept = records.filter(keep);
    summary.written += kept.length;
    const text = writer.write(kept);
    progress.update(summary.lines, source.bytesRead());
    if (text.length > 0 && outputError === undefined && !io.stdout.write(text)) await once(io.stdout, 'drain');
  };

  try {
    const lines = nonBlank(untilAborted(source.lines, stopReading.signal));
    const inFlight: Promise<void>[] = [];
    for await (const chunk of chunkWhenIdle(lines, options.chunkLines)) {
      const classified = clf.classifyMany(chunk.map((l) => l.text), { signal: cancel.signal });
      classified.catch(() => {}); // awaited below, in order
      const previous = inFlight.at(-1) ?? Promise.resolve();
      const written = previous.then(async () => emit(chunk, await classified));
      written.catch(() => {});
      inFlight.push(written);
      while (inFlight.length > CHUNKS_IN_FLIGHT) await inFlight.shift();
    }
    for (const written of inFlight) await written;
    if (cancel.signal.aborted) throw cancel.signal.reason;
    if (outputError !== undefined) throw outputError;
  } catch (err) {
    if (outputError?.code !== 'EPIPE') throw err;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
    io.stdout.off('error', onOutputError);
    stopReading.abort();
    source.close();
  }

  summary.blank = blank;
  summary.seconds = (performance.now() - started) / 1000;
  if (!options.quiet) {
    io.stderr.write(
      io.stderr.isTTY === true
        ? summaryBlock(summary, filtered, labelPainter(colorEnabled(io.stderr, { color: options.color, env: io.env })))
        : summaryLine(summary, filtered),
    );
  }
  return summary;
}


/** --only: comma-separated label names; the option may be repeated. */
export function collectLabels(value: string, previous: string[] = []): string[] {
  const names = value.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
  if (names.length === 0) throw new InvalidArgumentError('expected label names separated by commas');
  return [...previous, ...names];
}
