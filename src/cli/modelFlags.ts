// SPDX-License-Identifier: MIT
// The flags that open a model, declared once for classify, eval, serve and bench, and the one
// mapping from them to OpenOptions. The flags carry no commander defaults: an absent flag stays
// undefined and openOptionsSchema's default applies, so each default has one home (options.ts);
// help texts quote it from there.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CALIBRATION_CHOICES, openOptionsSchema, SPECIAL_TOKEN_CHOICES, templateTierOptionsSchema, TRUNCATION_CHOICES, type OpenOptions } from '../options.js';
import { DEFAULT_MAX_LINE_BYTES } from '../lines/readLogLines.js';
import { DEFAULT_MAX_TOKENS } from '../engine/runtimePlan.js';

/** A flag for one OpenOptions field. */
export interface ModelFlag {
  /** The OpenOptions field it sets. */
  field: keyof OpenOptions;
  option: () => Option;
}

/** Commander's parser for counts. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

/** Commander's parser for probabilities (0 to 1). */
export function probability(value: string): number {
  const p = Number(value);
  if (value.trim() === '' || !Number.isFinite(p) || p < 0 || p > 1) throw new InvalidArgumentError(`expected a probability from 0 to 1, got '${value}'`);
  return p;
}

const defaults = () => openOptionsSchema.parse({});

const count = (field: keyof OpenOptions, flags: string, description: string): ModelFlag => ({
  field,
  option: () => new Option(flags, description).argParser(positiveInt),
});

export const THREADS = count('threads', '--threads <n>', `CPU threads, fixed (default: adapts at run time between 1 and the physical cores)`);
export const BATCH_SIZE = count('batchSize', '--batch-size <n>', `lines per decode (default: ${defaults().batchSize})`);
export const MAX_TOKENS = count('maxTokens', '--max-tokens <n>', `tokens per line before truncation (default: ${DEFAULT_MAX_TOKENS}, or the model's training context if less)`);
export const TRUNCATION: ModelFlag = {
  field: 'truncation',
  option: () => new Option('--truncation <mode>', `overlong lines (default: ${defaults().truncation})`).choices(TRUNCATION_CHOICES),
};
export const SPECIAL_TOKENS: ModelFlag = {
  field: 'specialTokens',
  option: () => new Option('--special-tokens <mode>', `'plain' (safe) or 'parse' (HF parity) (default: ${defaults().specialTokens})`).choices(SPECIAL_TOKEN_CHOICES),
};

export const CALIBRATION: ModelFlag = {
  field: 'calibration',
  option: () =>
    new Option('--calibration <mode>', `'auto' applies the model's calibration, 'none' scores raw (default: ${defaults().calibration})`).choices(CALIBRATION_CHOICES),
};

/** classify and eval: the engine flags. */
export const ENGINE_FLAGS: readonly ModelFlag[] = [THREADS, BATCH_SIZE, MAX_TOKENS, TRUNCATION, SPECIAL_TOKENS, CALIBRATION];

/** calibrate: the engine flags but --calibration (a fit starts from the raw scores). */
export const CALIBRATE_FLAGS: readonly ModelFlag[] = ENGINE_FLAGS.filter((flag) => flag !== CALIBRATION);

/** serve: TEI's names for the batch budgets, and only the truncation sides a request can ask for. */
export const SERVE_FLAGS: readonly ModelFlag[] = [
  THREADS,
  count('maxTokens', '--max-tokens <n>', 'tokens per input before truncation (TEI max_input_length)'),
  count('batchTokens', '--max-batch-tokens <n>', `tokens per decode, shared by concurrent requests (default: ${defaults().batchTokens})`),
  count('batchSize', '--max-batch-requests <n>', `inputs per decode (default: ${defaults().batchSize})`),
  {
    field: 'truncation',
    option: () => new Option('--truncation <side>', `part of a long input that is dropped (default: ${defaults().truncation})`).choices(['right', 'left']),
  },
  CALIBRATION,
];

/** --review-min-score / --review-min-margin: together the `review` open option (classify, serve). */
export function addReviewFlags(command: Command): Command {
  return command
    .addOption(new Option('--review-min-score <p>', 'mark review: true when the top score is below p (the label is kept)').argParser(probability))
    .addOption(new Option('--review-min-margin <p>', 'mark review: true when the top score leads the second by less than p').argParser(probability));
}

/** --template-tier and --template-audit <p>: the `templateTier` open option (classify, serve, worker). */
export function addTemplateTierFlag(command: Command): Command {
  const audit = templateTierOptionsSchema.parse({}).audit;
  return command
    .addOption(new Option('--template-tier', "serve later lines of a log template from its first line's result (the model audits a share of them)"))
    .addOption(new Option('--template-audit <p>', `share of a template's later lines the model classifies anyway, 0 to 1 (implies --template-tier; default: ${audit})`).argParser(probability));
}

/** `--max-line-bytes`: the line reader's cap (classify, eval, calibrate, bench); absent: DEFAULT_MAX_LINE_BYTES. */
export function maxLineBytesOption(): Option {
  return new Option(
    '--max-line-bytes <n>',
    `longest line read: a longer one keeps its first n bytes and is flagged truncated, the rest up to the next line end is skipped (default: ${DEFAULT_MAX_LINE_BYTES})`,
  ).argParser(positiveInt);
}

/** `-m, --model`: a GGUF path or a pulled hub repo id. */
export function modelOption(description = 'logtriage GGUF file or pulled hub repo id (default: the pulled default model)'): Option {
  return new Option('-m, --model <model>', description);
}

/** Adds `flags` to `command`. */
export function addModelFlags(command: Command, flags: readonly ModelFlag[]): Command {
  for (const flag of flags) command.addOption(flag.option());
  return command;
}

/** The OpenOptions that `flags` set in commander's parsed `values`; absent flags are left to the defaults. */
export function openOptionsFrom(values: object, flags: readonly ModelFlag[]): OpenOptions {
  const given = values as Record<string, unknown>;
  const open: Record<string, unknown> = {};
  for (const flag of flags) {
    const value = given[flag.option().attributeName()];
    if (value !== undefined) open[flag.field] = value;
  }
  const review = { minScore: given.reviewMinScore, minMargin: given.reviewMinMargin };
  if (review.minScore !== undefined || review.minMargin !== undefined) {
    open.review = Object.fromEntries(Object.entries(review).filter(([, v]) => v !== undefined));
  }
  if (given.templateTier === true || given.templateAudit !== undefined) {
    open.templateTier = given.templateAudit !== undefined ? { audit: given.templateAudit } : {};
  }
  return open as OpenOptions;
}
