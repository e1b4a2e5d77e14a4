// SPDX-License-Identifier: MIT
// Secrets (NATS token and password, forward headers) from a file, so that they need not be on the
// command line, where any local user reads them in /proc/<pid>/cmdline and `ps`. The file holds
// the secret alone; one trailing line end is dropped. Errors name the flag and the file, never
// the content.
import { readFileSync } from 'node:fs';
import { ValidationError } from '../errors.js';

/** The secret in `path` for `flag` (`--token-file`), without its trailing line end. */
export function readSecretFile(path: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(`Cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const secret = text.replace(/\r?\n$/u, '');
  if (secret.length === 0) throw new ValidationError(`${flag} ${path} is empty`);
  return secret;
}

/** `--flag` and `--flag-file` exclude each other; the value of whichever was given. */
export function secretFrom(value: string | undefined, file: string | undefined, flag: string): string | undefined {
  if (value !== undefined && file !== undefined) throw new ValidationError(`--${flag} and --${flag}-file exclude each other`);
  return file !== undefined ? readSecretFile(file, `--${flag}-file`) : value;
}
