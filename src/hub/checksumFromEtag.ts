// SPDX-License-Identifier: MIT
// What a hub ETag promises about a file's bytes. LFS files carry their sha256 in X-Linked-Etag;
// files kept in git carry the git blob id, sha1("blob <size>\0" + content), in ETag. Both are
// checked as `hf cache verify` does; anything else cannot be verified and is refused.
import { createHash, type Hash } from 'node:crypto';
import { HubError } from '../errors.js';

export interface Checksum {
  readonly algorithm: 'sha256' | 'git-sha1';
  /** Lower-case hex digest the hub promised. */
  readonly expected: string;
  update(chunk: Uint8Array): void;
  /** Hex digest of everything passed to update(). Call once. */
  digest(): string;
}

/** Drops the weak prefix and the quotes: `W/"abc"` → `abc`. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1').toLowerCase();
}

function hashChecksum(algorithm: Checksum['algorithm'], expected: string, hash: Hash): Checksum {
  return {
    algorithm,
    expected,
    update: (chunk) => void hash.update(chunk),
    digest: () => hash.digest('hex'),
  };
}

/** A running checksum of `file` (`size` bytes) to compare with the hub's ETag. */
export function checksumFromEtag(etag: string, size: number, file: string): Checksum {
  const expected = normalizeEtag(etag);
  if (/^[0-9a-f]{64}$/.test(expected)) return hashChecksum('sha256', expected, createHash('sha256'));
  if (/^[0-9a-f]{40}$/.test(expected)) return hashChecksum('git-sha1', expected, createHash('sha1').update(`blob ${size}\0`));
  throw new HubError(`Cannot verify ${file}: the hub's ETag ${JSON.stringify(etag)} is neither a sha256 nor a git blob id`);
}
