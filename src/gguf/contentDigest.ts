// SPDX-License-Identifier: MIT
// The content digest a logtriage GGUF carries (docs/model-format.md#integrity): one SHA-256 per
// tensor over its tensor-info record and data bytes, and one per metadata key that matters for
// results, over the key/value pair's bytes as they sit in the header. GGUF itself has no checksum,
// so a flipped weight otherwise loads and classifies without a word. The writer computes it,
// verifyModel recomputes it, and the validator checks only its shape.

import { createHash } from 'node:crypto';

import { ModelFormatError } from '../errors.js';
import type { GgufMetadata } from './ggufTypes.js';

export const DIGEST_VERSION = 1;
export const DIGEST_PREFIX = 'logtriage.digest.';
export const DIGEST_KEY = {
  version: 'logtriage.digest.version',
  tensors: 'logtriage.digest.tensors',
  metadataKeys: 'logtriage.digest.metadata_keys',
  metadata: 'logtriage.digest.metadata',
} as const;

/** Hex SHA-256 of the placeholder header, overwritten once the tensors have been hashed (same length). */
export const PLACEHOLDER_HASH = '0'.repeat(64);
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** general.* keys that change how the file is read or which graph runs; every other general.* key is descriptive. */
const DIGESTED_GENERAL_KEYS = new Set(['general.architecture', 'general.alignment']);

/**
 * Whether a metadata key is covered by the digest: every key except the digest's own and the
 * descriptive general.* ones (name, file_type, quantization_version, license...). The rule is by
 * exclusion, so keys added later (logtriage.calibration.*, anything llama.cpp reads) are covered.
 */
export function isDigestedKey(key: string): boolean {
  if (key.startsWith(DIGEST_PREFIX)) return false;
  return !key.startsWith('general.') || DIGESTED_GENERAL_KEYS.has(key);
}

/** A digest key of the wrong shape; `key` names it so verify can report it as the part that differs. */
export class DigestShapeError extends ModelFormatError {
  constructor(readonly key: string, message: string) {
    super(message);
  }
}

export interface StoredDigest {
  readonly version: number;
  /** One hex SHA-256 per tensor, in tensor-info order. */
  readonly tensors: readonly string[];
  /** The covered keys, in header order, and their hex SHA-256, index for index. */
  readonly metadataKeys: readonly string[];
  readonly metadata: readonly string[];
}

function stringArray(metadata: GgufMetadata, key: string): string[] {
  const value = metadata.get(key);
  if (value === undefined) throw new DigestShapeError(key, `Missing metadata key '${key}' (the file has other ${DIGEST_PREFIX}* keys)`);
  if (value.type !== 'array' || value.itemType !== 'string') {
    throw new DigestShapeError(key, `Metadata key '${key}' must be an array of string, found ${value.type === 'array' ? `array of ${value.itemType}` : value.type}`);
  }
  return value.value;
}

function checkHashes(key: string, hashes: readonly string[]): void {
  const bad = hashes.findIndex((h) => !HEX_SHA256.test(h));
  if (bad !== -1) throw new DigestShapeError(key, `Metadata key '${key}' entry ${bad} (${JSON.stringify(hashes[bad]!.slice(0, 80))}) is not a lower-case hex SHA-256`);
}

/**
 * Reads and shape-checks the digest keys: undefined when the file has none (unverifiable),
 * otherwise every key present with the right type, version 1, one hash per tensor, one per listed
 * key, listed keys unique and covered by the rule. Does not compare any hash with the content.
 */
export function readStoredDigest(metadata: GgufMetadata, tensorCount: number): StoredDigest | undefined {
  if (![...metadata.keys()].some((k) => k.startsWith(DIGEST_PREFIX))) return undefined;
  const version = metadata.get(DIGEST_KEY.version);
  if (version === undefined) throw new DigestShapeError(DIGEST_KEY.version, `Missing metadata key '${DIGEST_KEY.version}' (the file has other ${DIGEST_PREFIX}* keys)`);
  if (version.type !== 'u32') throw new DigestShapeError(DIGEST_KEY.version, `Metadata key '${DIGEST_KEY.version}' must be u32, found ${version.type}`);
  if (version.value !== DIGEST_VERSION) {
    throw new DigestShapeError(DIGEST_KEY.version, `Metadata key '${DIGEST_KEY.version}' is ${version.value}; this logtriage reads digest version ${DIGEST_VERSION}`);
  }
  const unknown = [...metadata.keys()].find((k) => k.startsWith(DIGEST_PREFIX) && !Object.values(DIGEST_KEY).includes(k as never));
  if (unknown !== undefined) throw new DigestShapeError(unknown, `Metadata key '${unknown}' is not part of digest version ${DIGEST_VERSION}`);
  const tensors = stringArray(metadata, DIGEST_KEY.tensors);
  if (tensors.length !== tensorCount) {
    throw new DigestShapeError(DIGEST_KEY.tensors, `Metadata key '${DIGEST_KEY.tensors}' has ${tensors.length} entries, expected one per tensor (${tensorCount})`);
  }
  checkHashes(DIGEST_KEY.tensors, tensors);
  const metadataKeys = stringArray(metadata, DIGEST_KEY.metadataKeys);
  const seen = new Set<string>();
  for (const key of metadataKeys) {
    if (!isDigestedKey(key)) throw new DigestShapeError(DIGEST_KEY.metadataKeys, `Metadata key '${DIGEST_KEY.metadataKeys}' lists '${key}', which the digest never covers`);
    if (seen.has(key)) throw new DigestShapeError(DIGEST_KEY.metadataKeys, `Metadata key '${DIGEST_KEY.metadataKeys}' lists '${key}' twice`);
    seen.add(key);
  }
  const hashes = stringArray(metadata, DIGEST_KEY.metadata);
  if (hashes.length !== metadataKeys.length) {
    throw new DigestShapeError(DIGEST_KEY.metadata, `Metadata key '${DIGEST_KEY.metadata}' has ${hashes.length} entries, expected one per key of '${DIGEST_KEY.metadataKeys}' (${metadataKeys.length})`);
  }
  checkHashes(DIGEST_KEY.metadata, hashes);
  return { version: version.value, tensors, metadataKeys, metadata: hashes };
}

/**
 * The model's identity: SHA-256 over the stored digest (every tensor's and covered key's hash, in
 * order). Two files with the same content have the same id whatever their descriptive general.*
 * keys; its first 12 hex characters name the model on every answer (docs/model-format.md#integrity).
 * Read from the header alone, so it is what the file claims: only a verified file is known to match it.
 */
export function modelDigestId(stored: StoredDigest): string {
  const hash = createHash('sha256').update(`logtriage.digest.v${stored.version}\n`);
  for (const t of stored.tensors) hash.update(`t ${t}\n`);
  stored.metadataKeys.forEach((key, i) => hash.update(`m ${key} ${stored.metadata[i]}\n`));
  return hash.digest('hex');
}

/** How answers name the model: 12 hex characters of modelDigestId, or 'unverifiable' for a file without a digest. */
export const UNVERIFIABLE = 'unverifiable';
export function shortModelDigest(id: string | undefined): string {
  return id === undefined ? UNVERIFIABLE : id.slice(0, 12);
}
