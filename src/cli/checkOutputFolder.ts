// SPDX-License-Identifier: MIT
// An output file's folder is checked when the flags are read, so a typo in `-o` or
// `--thresholds-out` fails at once rather than after the model has classified every line.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ValidationError } from '../errors.js';

/** Throws a ValidationError naming `flag` unless `path`'s folder exists and can be written to. */
export async function checkOutputFolder(path: string, flag: string): Promise<void> {
  const folder = dirname(resolve(path));
  const isFolder = await stat(folder).then((s) => s.isDirectory(), () => false);
  if (!isFolder) throw new ValidationError(`${flag} ${path}: folder ${folder} does not exist`);
  await access(folder, constants.W_OK).catch((err: unknown) => {
    throw new ValidationError(`${flag} ${path}: folder ${folder} is not writable`, { cause: err });
  });
}
