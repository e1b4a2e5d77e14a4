// SPDX-License-Identifier: MIT
// What `classify` prints per line and what every writer shares: its own file so that
// recordWriter.ts (which picks a writer) and the writers (which use these) import it, not each other.

export const OUTPUT_FORMATS = ['jsonl', 'csv', 'table', 'ecs'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** One classified log line. */
export interface ClassifiedLine {
  /** The log file as given on the command line; undefined for stdin. */
  file?: string;
  /** 1-based line number in the file (after a --follow rotation: in the new file). */
  line: number;
  text: string;
  label: string;
  score: number;
  /** Probability of every label. */
  scores: Record<string, number>;
  /** 'invalid-utf8' plus the library's result flags. */
  flags: string[];
  truncated: boolean;
  /** When the line was read. */
  readAt: Date;
  /** Set with review thresholds (--review-min-score / --review-min-margin): the line needs a human. */
  review?: boolean;
  /** Set with --thresholds: the line's label has a threshold and its score reaches it. */
  alert?: boolean;
  /** Set with --template-tier: 'template' when the line took its template's result, else 'model'. */
  via?: 'model' | 'template';
  /** Set with --template-tier: the line's template id. */
  templateId?: string;
  /** The digest of the weights that classified it (ClassificationResult.model). */
  model?: string;
}

export interface RecordWriterOptions {
  /** The model's labels, in id order. */
  labels: readonly string[];
  /** Add every label's probability. */
  scores: boolean;
  /** Add the line text (the table always shows it). */
  text: boolean;
  /** stdout is a terminal: text cells get control characters escaped. */
  terminal: boolean;
  /** ANSI colour in the table. */
  color: boolean;
  /** Lines come from more than one input, so the table names the file on each row. */
  manyInputs: boolean;
  /** CSV and the table get a `review` column (review thresholds are set). */
  review?: boolean;
  /** CSV and the table get an `alert` column (--thresholds is set). */
  alerts?: boolean;
  /** CSV and the table get `via` and `template_id` columns (--template-tier is set). */
  templateTier?: boolean;
}

export interface RecordWriter {
  /** Text for stdout; '' when there is nothing to print. */
  write(lines: readonly ClassifiedLine[]): string;
}

/** The name `file` is shown under: stdin has none. */
export const STDIN_NAME = '<stdin>';
