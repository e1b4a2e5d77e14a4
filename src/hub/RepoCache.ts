// SPDX-License-Identifier: MIT
// Where one hub repo lives in the model cache:
//   <cacheDir>/models--<owner>--<name>/
//     refs/<revision>            the commit the revision pointed to when its files were complete
//     snapshots/<commit>/<file>  the checkpoint as downloaded (`<file>.part` while incomplete)
//     gguf/<commit>/<type>.gguf  converted models
// Keyed by commit, so a resumed `.part` always continues the same bytes, whatever the branch did since.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CONVERT_TYPES, type ConvertType } from '../convert/convertOptions.js';

const COMMIT = /^[0-9a-f]{40}$/;

export class RepoCache {
  /** This repo's folder in the cache. */
  readonly dir: string;

  constructor(readonly cacheDir: string, readonly repoId: string) {
    this.dir = join(cacheDir, `models--${repoId.replace('/', '--')}`);
  }

  snapshotDir(commit: string): string {
    return join(this.dir, 'snapshots', commit);
  }

  ggufPath(commit: string, type: ConvertType): string {
    return join(this.dir, 'gguf', commit, `${type}.gguf`);
  }

  /** The commit `revision` names: itself when it is a commit hash, else the one recorded by the last pull. */
  commitOf(revision: string): string | undefined {
    if (COMMIT.test(revision)) return revision;
    const ref = join(this.dir, 'refs', revision);
    if (!existsSync(ref)) return undefined;
    const commit = readFileSync(ref, 'utf8').trim();
    return COMMIT.test(commit) ? commit : undefined;
  }

  saveRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const ref = join(this.dir, 'refs', revision);
    mkdirSync(dirname(ref), { recursive: true });
    writeFileSync(ref, commit);
  }

  /** Types converted for `commit`, in CONVERT_TYPES order. */
  ggufTypes(commit: string): ConvertType[] {
    const dir = join(this.dir, 'gguf', commit);
    const files = existsSync(dir) ? new Set(readdirSync(dir)) : new Set<string>();
    return CONVERT_TYPES.filter((type) => files.has(`${type}.gguf`));
  }
}
