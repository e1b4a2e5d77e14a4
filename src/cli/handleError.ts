// SPDX-License-Identifier: MIT
// The CLI's one way out for errors: one line per error and one exit code per kind.
import { CommanderError } from 'commander';
import { IntegrityError, LogTriageError, ValidationError } from '../errors.js';
import { escapeTerminal, escapeTerminalText, terminalJson } from './output/escapeTerminal.js';

/**
 * Prints one line per error (a JSON object `{error, code}` with `json`) and returns the exit code.
 * The one way out for errors: a message quotes what it was given (a GGUF metadata key, V8's
 * snippet of a bad JSON line, a gold label, a flag value), so it is escapeTerminal'd here, once.
 */
export function handleError(err: unknown, verbose: boolean, json: boolean): number {
  if (err instanceof CommanderError) {
    if (json && err.exitCode !== 0) process.stderr.write(`${terminalJson({ error: err.message.replace(/^error: /, ''), code: 'ERR_USAGE' })}\n`);
    return err.exitCode === 0 ? 0 : 2;
  }
  const usage = err instanceof ValidationError;
  const message = err instanceof Error ? err.message : String(err);
  const prefix = err instanceof LogTriageError ? `${err.name}` : 'error';
  if (json) {
    const code = (err as { code?: unknown } | undefined)?.code;
    process.stderr.write(`${terminalJson({ error: message, code: typeof code === 'string' ? code : 'ERR_RUNTIME' })}\n`);
  } else {
    process.stderr.write(`logtriage: ${prefix}: ${escapeTerminal(message)}\n`);
  }
  // The stack repeats the message: its lines are kept, everything else escaped.
  if (verbose && err instanceof Error && err.stack) process.stderr.write(`${escapeTerminalText(err.stack)}\n`);
  if (err instanceof IntegrityError && err.reason === 'unverifiable') return 3;
  return usage ? 2 : 1;
}

