// SPDX-License-Identifier: MIT
// The state of a labeling session (`logtriage label`): one line per template (templateOf; the first
// line seen of each) of the non-blank lines of the logs, less the templates the output file already
// has a line of (a session resumes where the last one stopped), in the mode's order — 'random': a
// seeded shuffle of all of them, the done ones dropped after, so a resumed session keeps the
// order; 'uncertain': the model's least certain first (uncertainOrder) — and each label appended
// to the output at once, in one write synced to disk, as one JSON Lines row `{"text", "label",
// "mode"}` — the format eval, calibrate and adapt read (eval reports "random" rows apart). A kill
// leaves whole rows; a restart neither loses nor repeats one. Skipped lines are only skipped
// for this session: the next one offers them again. Undo steps back over this session's answers,
// last first: an undone label's row is taken out of the output (rewritten whole: a temporary file
// renamed over it, so a crash leaves the old file or the new one, never half of one).
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import type { ClassificationResult } from '../LogClassifier.js';
import { ValidationError } from '../errors.js';
import { seededRandom } from '../seededRandom.js';
import { templateOf } from '../templates/templateOf.js';
import { readLabeledRows } from '../evaluation/readLabeledRows.js';
import { readLogLines } from '../lines/readLogLines.js';

export interface LabelSessionOptions {
  /** Log files to label lines of. */
  files: readonly string[];
  /** The labels offered, in key order (key 1 is the first). */
  labels: readonly string[];
  /** JSON Lines file the labels are appended to (created when missing). */
  output: string;
  /** The order lines are offered in (see orderLines); recorded in each row. Default: 'uncertain' with a classifier, else 'random'. */
  mode?: LabelMode;
  /** Seed of the 'random' shuffle. Default 1. */
  seed?: number;
  /** Classifies the lines offered: needed for 'uncertain'; with it the page shows each line's prediction. */
  classify?: (texts: string[]) => Promise<ClassificationResult[]>;
}

export const LABEL_MODES = ['uncertain', 'random'] as const;
export type LabelMode = (typeof LABEL_MODES)[number];

/** The model's answer for a line, as the page shows it. */
export interface LinePrediction {
  label: string;
  scores: Record<string, number>;
  /** Top score less the second one. */
  margin: number;
}

/** Top score less the second (the whole top score with one label). */
export function topMargin(scores: Record<string, number>): number {
  const [first = 0, second = 0] = Object.values(scores).sort((a, b) => b - a);
  return first - second;
}

/** A uniform shuffle (Fisher-Yates) of `items`, the same for the same seed. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Most uncertain first, stratified: the lines are grouped by predicted label, each group ordered by
 * margin (smallest first, then line order); round r takes the r-th line of every group, those in
 * margin order. So each label's least certain lines come early, not only the commonest label's.
 */
export function uncertainOrder(predictions: readonly LinePrediction[]): number[] {
  const groups = new Map<string, number[]>();
  predictions.forEach((p, i) => groups.set(p.label, [...(groups.get(p.label) ?? []), i]));
  const byMargin = (a: number, b: number) => predictions[a]!.margin - predictions[b]!.margin || a - b;
  const sorted = [...groups.values()].map((g) => g.sort(byMargin));
  const order: number[] = [];
  for (let round = 0; order.length < predictions.length; round++) {
    order.push(...sorted.flatMap((g) => (round < g.length ? [g[round]!] : [])).sort(byMargin));
  }
  return order;
}

/** What the page shows: the line to label, or done. */
export interface LabelState {
  /** Position of `text` among this session's lines; -1 when done. */
  index: number;
  text: string | null;
  /** Lines labeled so far, in the output file (earlier sessions included). */
  labeled: number;
  /** Lines still to label or skip in this session, `text` included. */
  remaining: number;
  /** Answers of this session that `undo` can take back. */
  undoable: number;
  /** Per offered label, the rows of the output file with it (earlier sessions included). */
  counts: Record<string, number>;
  mode: LabelMode;
  /** The model's answer for `text`, when the session has a model. */
  prediction: LinePrediction | null;
  labels: string[];
}

/** Whether `file` is not empty and its last byte ends no line. */
async function lastLineOpen(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a && last[0] !== 0x0d;
  } finally {
    await handle.close();
  }
}

export class LabelSession {
  private position = 0;
  private labeledCount: number;
  /** One write at a time, in order. */
  private writing: Promise<void> = Promise.resolve();
  /** This session's answers, in order: the label given, or null for a skip. */
  private readonly answers: (string | null)[] = [];
  /** The output's last line has no newline yet (edited by hand): the next row starts with one. */
  private endsOpen: boolean;

  private constructor(
    private readonly lines: string[],
    private readonly predictions: LinePrediction[] | null,
    private readonly mode: LabelMode,
    private readonly options: LabelSessionOptions,
    labeledBefore: number,
    /** Rows of the output per label. */
    private readonly counts: Map<string, number>,
    endsOpen: boolean,
  ) {
    this.labeledCount = labeledBefore;
    this.endsOpen = endsOpen;
  }

  static async open(options: LabelSessionOptions): Promise<LabelSession> {
    if (options.labels.length === 0 || options.labels.length > 10) throw new ValidationError(`Expected 1 to 10 labels (keys 1-9 and 0) but received ${options.labels.length}`);
    if (new Set(options.labels).size !== options.labels.length) throw new ValidationError(`Labels must be distinct: ${options.labels.join(', ')}`);
    const done = new Set<string>();
    let labeledBefore = 0;
    let endsOpen = false;
    const counts = new Map<string, number>();
    if (existsSync(options.output)) {
      endsOpen = await lastLineOpen(options.output);
      // An output with no row yet is a fresh start, not an error.
      const rows = await readLabeledRows(options.output, { textField: 'text', labelField: 'label', format: 'jsonl' }).catch((err: unknown) => {
        if (err instanceof ValidationError && /has no labeled rows/.test(err.message)) return [];
        // A row is one write, so only a crash of the machine or a full disk cuts one: it is the last line, with no newline.
        if (err instanceof ValidationError && endsOpen && /not valid JSON/.test(err.message)) {
          throw new ValidationError(`${err.message}. The file ends without a newline: if that is the last line, its write was cut short (a full disk, a crash); remove it and start again`, { cause: err });
        }
        throw err;
      });
      for (const row of rows) {
        done.add(row.text);
        counts.set(row.label, (counts.get(row.label) ?? 0) + 1);
      }
      labeledBefore = rows.length;
    }
    const mode = options.mode ?? (options.classify ? 'uncertain' : 'random');
    if (mode === 'uncertain' && !options.classify) throw new ValidationError("Mode 'uncertain' needs a model (--model)");
    // One line per template, the first seen; a template the output already has a line of is done.
    const doneTemplates = new Set([...done].map((text) => templateOf(text)));
    const seen = new Set<string>();
    const representatives: { text: string; done: boolean }[] = [];
    for (const file of options.files) {
      if (!existsSync(file)) throw new ValidationError(`Log file not found: ${file}`);
      for await (const line of readLogLines(createReadStream(file))) {
        if (line.text.trim().length === 0) continue;
        const template = templateOf(line.text);
        if (seen.has(template)) continue;
        seen.add(template);
        representatives.push({ text: line.text, done: done.has(line.text) || doneTemplates.has(template) });
      }
    }
    // Random: shuffled before the done lines are dropped, so a resumed session (same logs and
    // seed) goes on in the order the last one was in, from where it stopped.
    let lines = (mode === 'random' ? seededShuffle(representatives, options.seed ?? 1) : representatives).filter((r) => !r.done).map((r) => r.text);
    let predictions: LinePrediction[] | null = null;
    if (options.classify) {
      const results: ClassificationResult[] = [];
      for (let start = 0; start < lines.length; start += 256) results.push(...(await options.classify(lines.slice(start, start + 256))));
      predictions = results.map((r) => ({ label: r.label, scores: r.scores, margin: topMargin(r.scores) }));
    }
    if (mode === 'uncertain') {
      const order = uncertainOrder(predictions!);
      lines = order.map((i) => lines[i]!);
      predictions = order.map((i) => predictions![i]!);
    }
    return new LabelSession(lines, predictions, mode, options, labeledBefore, counts, endsOpen);
  }

  /** This session's lines in the order offered, with the model's answers when it has a model. */
  offered(): { text: string; prediction: LinePrediction | null }[] {
    return this.lines.map((text, i) => ({ text, prediction: this.predictions?.[i] ?? null }));
  }

  state(): LabelState {
    const done = this.position >= this.lines.length;
    return {
      index: done ? -1 : this.position,
      text: done ? null : this.lines[this.position]!,
      labeled: this.labeledCount,
      remaining: this.lines.length - this.position,
      undoable: this.answers.length,
      counts: Object.fromEntries(this.options.labels.map((l) => [l, this.counts.get(l) ?? 0])),
      mode: this.mode,
      prediction: done || !this.predictions ? null : this.predictions[this.position]!,
      labels: [...this.options.labels],
    };
  }

  /** Labels line `index` (it must be the current one: a stale page cannot label another line) and moves on. */
  async label(index: number, label: string): Promise<LabelState> {
    this.checkCurrent(index);
    if (!this.options.labels.includes(label)) throw new ValidationError(`Unknown label ${JSON.stringify(label)}; labels: ${this.options.labels.join(', ')}`);
    const text = this.lines[index]!;
    this.position++;
    this.answers.push(label);
    try {
      await this.serially(() => this.appendRow(JSON.stringify({ text, label, mode: this.mode })));
    } catch (err) {
      this.position--;
      this.answers.pop();
      throw err;
    }
    this.labeledCount++;
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
    return this.state();
  }

  /** Skips line `index` for this session. */
  skip(index: number): LabelState {
    this.checkCurrent(index);
    this.position++;
    this.answers.push(null);
    return this.state();
  }

  /**
   * Undoes this session's last answer and shows its line again: a label's row (the last row of
   * the output with that text and label) is removed from the output; a skip is only forgotten.
   */
  async undo(): Promise<LabelState> {
    if (this.answers.length === 0) throw new ValidationError('Nothing to undo in this session');
    const label = this.answers.pop()!;
    this.position--;
    if (label === null) return this.state();
    const text = this.lines[this.position]!;
    try {
      await this.serially(() => this.removeRow(text, label));
    } catch (err) {
      this.position++;
      this.answers.push(label);
      throw err;
    }
    this.labeledCount--;
    this.counts.set(label, (this.counts.get(label) ?? 1) - 1);
    return this.state();
  }

  private serially(write: () => Promise<void>): Promise<void> {
    const done = this.writing.then(write);
    this.writing = done.catch(() => {});
    return done;
  }

  /** Appends one row in one write, on disk (fdatasync) before the answer is taken as saved. */
  private async appendRow(row: string): Promise<void> {
    const file = await open(this.options.output, 'a');
    try {
      // Without the newline the row would join the last line and make it invalid JSON.
      await file.appendFile(`${this.endsOpen ? '\n' : ''}${row}\n`);
      // A crash of the machine, not only of this process, keeps an answer the page was told is saved.
      await file.datasync();
    } finally {
      await file.close();
    }
    this.endsOpen = false;
  }

  private async removeRow(text: string, label: string): Promise<void> {
    const output = this.options.output;
    const rows = (await readFile(output, 'utf8')).split('\n');
    let at = -1;
    for (let i = rows.length - 1; i >= 0 && at < 0; i--) {
      try {
        const row = JSON.parse(rows[i]!) as { text?: unknown; label?: unknown };
        if (row.text === text && row.label === label) at = i;
      } catch {
        // not a row of ours: kept as it is
      }
    }
    if (at < 0) throw new ValidationError(`${output} no longer has the row to undo (${JSON.stringify(text)}, ${label}): was it edited meanwhile?`);
    rows.splice(at, 1);
    const temp = `${output}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const file = await open(temp, 'wx');
      try {
        await file.writeFile(rows.join('\n'));
        // On disk before the rename: after a crash the name holds the old rows or the new, never an empty file.
        await file.datasync();
      } finally {
        await file.close();
      }
      await rename(temp, output);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  private checkCurrent(index: number): void {
    if (index !== this.position || this.position >= this.lines.length) {
      throw new ValidationError(`Line ${index} is not the current line (${this.position >= this.lines.length ? 'all done' : this.position}): reload the page`);
    }
  }
}
