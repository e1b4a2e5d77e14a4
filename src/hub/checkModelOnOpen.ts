// SPDX-License-Identifier: MIT
// What open() does about the content digest (docs/model-format.md#verified-by-default). 'once'
// (the default) hashes a file the first time it is opened and leaves a stamp in the cache folder
// keyed by what identifies that file's content on disk (device, inode, size, mtime, ctime, in
// nanoseconds) and the digest it matched; a later open of the unchanged file finds the stamp and
// skips the hashing. Any write, truncate, rename-over or touch changes ctime, so the next open
// hashes again. `true` hashes on every open. A file without a digest loads with one warning
// unless the mode refuses it ('require', true).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';

import { IntegrityError } from '../errors.js';
import { cacheDirFromEnv } from './readHubSettings.js';
import { shortModelDigest } from '../gguf/contentDigest.js';
import { verifyModel } from '../gguf/verifyModel.js';

export type VerifyMode = boolean | 'once' | 'require';

export interface Verification {
  /** 'verified': the content matched its digest (hashed now, or a stamp says it was); 'unverifiable': no digest; 'off': `verify: false`. */
  readonly status: 'verified' | 'unverifiable' | 'off';
  /** How a 'verified' file was checked: hashed on this open, or a stamp of an earlier open of the unchanged file. */
  readonly by: 'hash' | 'stamp' | null;
  /** The model's name on answers: 12 hex characters of its digest id, or 'unverifiable'. */
  readonly model: string;
}

/** Process-wide counts (tests and `info` read them): files hashed by open(), and opens a stamp spared. */
export const verifyCounters = { hashed: 0, stampHits: 0 };

let warnedUnverifiable = new Set<string>();

/** The folder stamps live in: `<LOGTRIAGE_CACHE_DIR or ~/.cache/logtriage>/verified`. */
export function stampDir(): string {
  return join(cacheDirFromEnv(), 'verified');
}

/** The stamp's name: the file's identity on disk, so any change to it names another stamp. */
function stampName(st: BigIntStats, digestId: string): string {
  const key = [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs, digestId].join(':');
  return `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`;
}

const sameFile = (a: BigIntStats, b: BigIntStats): boolean =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

async function hasStamp(path: string, digestId: string): Promise<boolean> {
  try {
    const stamp = JSON.parse(await readFile(path, 'utf8')) as { digest?: unknown };
    return stamp.digest === digestId;
  } catch {
    return false; // missing or unreadable: hash again, which is always safe
  }
}

async function writeStamp(path: string, body: object): Promise<void> {
  try {
    await mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(body) + '\n');
    await rename(tmp, path);
  } catch (error) {
    // A read-only cache folder costs the next open a hash, nothing else.
    process.emitWarning(`Could not record that ${body['path' as keyof object]} was verified in ${stampDir()} (${(error as Error).message}); the next open hashes it again`, {
      code: 'LOGTRIAGE_VERIFY_STAMP',
    });
  }
}

/**
 * Checks `path` as `mode` asks; resolves to how it was checked, or throws IntegrityError (a
 * mismatch, or a file without a digest under 'require'/true). `digestId` is the header's
 * modelDigestId (undefined: no digest), already read by open().
 */
export async function checkModelOnOpen(path: string, mode: VerifyMode, digestId: string | undefined): Promise<Verification> {
  const model = shortModelDigest(digestId);
  if (mode === false) return { status: 'off', by: null, model };
  if (digestId === undefined) {
    const message = `${path} has no content digest (logtriage.digest.*): it was not written by logtriage convert, so it cannot be verified`;
    if (mode === true || mode === 'require') throw new IntegrityError('unverifiable', message);
    if (!warnedUnverifiable.has(path)) {
      warnedUnverifiable.add(path);
      process.emitWarning(`${message}; loading it unverified (verify: 'require' refuses such files)`, { code: 'LOGTRIAGE_UNVERIFIABLE' });
    }
    return { status: 'unverifiable', by: null, model };
  }
  const before = await stat(path, { bigint: true });
  const stamp = join(stampDir(), stampName(before, digestId));
  if (mode !== true && (await hasStamp(stamp, digestId))) {
    verifyCounters.stampHits++;
    return { status: 'verified', by: 'stamp', model };
  }
  verifyCounters.hashed++;
  const result = await verifyModel(path);
  if (result.status !== 'verified') throw new IntegrityError(result.status, result.message);
  const after = await stat(path, { bigint: true });
  // Stamp only what was hashed: a file changed while it was read gets no stamp (hashed next time).
  if (mode !== true && sameFile(before, after)) {
    await writeStamp(stamp, { path, digest: digestId, dev: `${before.dev}`, ino: `${before.ino}`, size: `${before.size}`, mtimeNs: `${before.mtimeNs}`, ctimeNs: `${before.ctimeNs}`, verifiedAt: new Date().toISOString() });
  }
  return { status: 'verified', by: 'hash', model };
}

/** For tests: warn again about files already warned about. */
export function resetUnverifiableWarnings(): void {
  warnedUnverifiable = new Set();
}
