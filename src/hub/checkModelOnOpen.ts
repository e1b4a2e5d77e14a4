// SPDX-License-Identifier: MIT
// What open() does about the content digest (docs/model-format.md#verified-by-default). 'once'
// (the default) hashes a file the first time it is opened and leaves a stamp in the cache folder
// keyed by what identifies that file's content on disk (device, inode, size, mtime, ctime, in
// nanoseconds) and the digest it matched; a later open of the unchanged file finds the stamp and
// skips the hashing. Any write, truncate, rename-over or touch changes ctime, so the next open
// hashes again. `true` hashes on every open. A file without a digest loads with one warning
// unless the mode refuses it ('require', true). Writing a stamp prunes the folder: stamps whose
// file is gone or changed (they can never match again) are removed, and past stampPolicy.maxStamps
// the least recently used go; a stamp found is touched, so LRU follows use. Pruning runs only
// after a hash (which read the whole model), and reads at most the folder's few hundred entries.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
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

/** Process-wide counts (tests and `info` read them): files hashed by open(), opens a stamp spared, stamps pruned. */
export const verifyCounters = { hashed: 0, stampHits: 0, stampsPruned: 0 };

/** How many stamps the folder keeps (least recently used go first); tests lower it. */
export const stampPolicy = { maxStamps: 256 };

/** A `.tmp` older than this was left by a process that died mid-write. */
const STALE_TMP_MS = 10 * 60_000;

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
    if (stamp.digest !== digestId) return false;
  } catch {
    return false; // missing or unreadable: hash again, which is always safe
  }
  const now = new Date();
  await utimes(path, now, now).catch(() => undefined); // recently used: the last the LRU cap removes
  return true;
}

interface StampBody {
  path?: unknown;
  dev?: unknown;
  ino?: unknown;
  size?: unknown;
  mtimeNs?: unknown;
  ctimeNs?: unknown;
}

/** Whether the file a stamp names still has the identity the stamp recorded (else it can never match again). */
async function stampIsLive(body: StampBody): Promise<boolean> {
  if (typeof body.path !== 'string') return false;
  try {
    const st = await stat(body.path, { bigint: true });
    return `${st.dev}` === body.dev && `${st.ino}` === body.ino && `${st.size}` === body.size && `${st.mtimeNs}` === body.mtimeNs && `${st.ctimeNs}` === body.ctimeNs;
  } catch {
    return false; // the file is gone (or unreadable: its next open hashes it anyway)
  }
}

/**
 * Removes stamps that can never match again (their file is gone or changed), stale temporary
 * files, and then the least recently used past stampPolicy.maxStamps. `keep` (the stamp just
 * written) is never removed. Deleting a stamp is always safe: it costs the next open a hash.
 */
async function pruneStamps(dir: string, keep: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const live: Array<{ path: string; used: number }> = [];
  const remove = async (path: string) => {
    await rm(path, { force: true });
    verifyCounters.stampsPruned++;
  };
  for (const name of names) {
    const path = join(dir, name);
    if (path === keep) continue;
    try {
      if (name.endsWith('.tmp')) {
        if (Date.now() - (await stat(path)).mtimeMs > STALE_TMP_MS) await remove(path);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const [body, st] = await Promise.all([readFile(path, 'utf8').then((t) => JSON.parse(t) as StampBody), stat(path)]);
      if (await stampIsLive(body)) live.push({ path, used: st.mtimeMs });
      else await remove(path);
    } catch {
      await remove(path).catch(() => undefined); // unreadable or removed meanwhile by another process
    }
  }
  live.sort((a, b) => b.used - a.used || (a.path < b.path ? -1 : 1));
  for (const { path } of live.slice(Math.max(0, stampPolicy.maxStamps - 1))) await remove(path);
}

async function writeStamp(path: string, body: object): Promise<void> {
  try {
    await mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(body) + '\n');
    await rename(tmp, path);
    await pruneStamps(join(path, '..'), path).catch(() => undefined); // a stamp not pruned costs only disk space
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
