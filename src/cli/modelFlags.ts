// SPDX-License-Identifier: MIT
// The flags that open a model, declared once for classify, eval, serve and bench, and the one
// mapping from them to OpenOptions. The flags carry no commander defaults: an absent flag stays
// undefined and openOptionsSchema's default applies, so each default has one home (options.ts);
// help texts quote it from there.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { openOptionsSchema, SPECIAL_TOKEN_CHOICES, TRUNCATION_CHOICES, type OpenOptions } from '../options.js';
import { DEFAULT_MAX_TOKENS } from '../runtimePlan.js';

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

const defaults = () => openOptionsSchema.parse({});

const count = (field: keyof OpenOptions, flags: string, description: string): ModelFlag => ({
  field,
  option: () => new Option(flags, description).argParser(positiveInt),
});

export const THREADS = count('threads', '--threads <n>', `CPU threads (default: the physical cores, ${defaults().threads} here)`);
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

/** classify and eval: the engine flags. */
export const ENGINE_FLAGS: readonly ModelFlag[] = [THREADS, BATCH_SIZE, MAX_TOKENS, TRUNCATION, SPECIAL_TOKENS];

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
];

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
  const open: Record<string, unknown> = {};
  for (const flag of flags) {
    const value = (values as Record<string, unknown>)[flag.option().attributeName()];
    if (value !== undefined) open[flag.field] = value;
  }
  return open as OpenOptions;
}
