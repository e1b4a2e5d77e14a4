// SPDX-License-Identifier: MIT
// `--forward-format es-bulk`: enriched /ingest records as Elasticsearch `_bulk` create actions,
// read back item by item. Each record gets a deterministic `_id` (a digest of the record as the
// shipper sent it, and which identical copy in the request it is), so a batch the shipper sends
// again re-creates nothing: an item already there answers 409 and counts as arrived. Items that
// failed for a reason that passes (429, 5xx) are sent again, alone, a few times; then the request
// is a 503 and the shipper's retry is idempotent. Items refused for good (a mapping conflict, a
// document Elasticsearch cannot parse) are reported per record and never retried. Top-level
// fields named like Elasticsearch metadata (`_id`, `_index`, any `_`-prefixed name: Elasticsearch
// refuses a document that carries one) are moved under `source_underscore_fields`, without their
// leading underscore.
import { createHash } from 'node:crypto';
import { HttpError } from './errors.js';
import type { LogRecord } from '../records/readField.js';

/** Tries of the items that failed with 429 or 5xx, the first included. */
export const BULK_TRIES = 3;
/** Milliseconds before the second try; doubled for each further one. */
const BULK_BACKOFF_MS = 100;

/** Where top-level `_`-prefixed fields go in a forwarded document. */
export const MOVED_FIELDS_KEY = 'source_underscore_fields';

/** `record` without top-level `_` fields, which are moved under MOVED_FIELDS_KEY (names without the `_`). */
export function withoutMetadataFields(record: LogRecord): LogRecord {
  const moved = Object.keys(record).filter((k) => k.startsWith('_'));
  if (moved.length === 0) return record;
  const rest: LogRecord = {};
  const under: LogRecord = {};
  for (const [key, value] of Object.entries(record)) {
    // defineProperty: a key such as `__proto__` stays data.
    if (key.startsWith('_')) Object.defineProperty(under, key.replace(/^_+/u, '') || 'underscore', { value, enumerable: true, writable: true, configurable: true });
    else Object.defineProperty(rest, key, { value, enumerable: true, writable: true, configurable: true });
  }
  Object.defineProperty(rest, MOVED_FIELDS_KEY, { value: under, enumerable: true, writable: true, configurable: true });
  return rest;
}

/** Deterministic `_id`s: sha256 of each record's JSON as received, `-<n>` for the n-th identical copy in the request. */
export function bulkIds(sourceJson: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return sourceJson.map((json) => {
    const digest = createHash('sha256').update(json).digest('hex').slice(0, 40);
    const n = seen.get(digest) ?? 0;
    seen.set(digest, n + 1);
    return n === 0 ? digest : `${digest}-${n}`;
  });
}

interface BulkItem {
  status?: unknown;
  error?: { type?: unknown; reason?: unknown };
}

const retryable = (status: number) => status === 429 || status >= 500;

export interface BulkTarget {
  url: string;
  timeoutMs: number;
  headers: Record<string, string>;
}

/**
 * Creates the documents (`docs[i]` as JSON text, with `_id` `ids[i]`); resolves with the records
 * refused for good, by index, with Elasticsearch's reason. Throws 503 when items still fail with
 * 429/5xx after BULK_TRIES, or the downstream cannot be reached; 502 when it answers the request
 * itself with an error or not with a _bulk answer.
 */
export async function forwardBulk(docs: readonly string[], ids: readonly string[], target: BulkTarget): Promise<Map<number, string>> {
  const refused = new Map<number, string>();
  let pending = docs.map((_, i) => i);
  for (let attempt = 1; pending.length > 0; attempt++) {
    const body = pending.map((i) => `${JSON.stringify({ create: { _id: ids[i] } })}\n${docs[i]}\n`).join('');
    let response: Response;
    try {
      response = await fetch(target.url, { method: 'POST', body, headers: { ...target.headers, 'content-type': 'application/x-ndjson' }, signal: AbortSignal.timeout(target.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new HttpError('downstream_unavailable', `forwarding ${pending.length} records failed: the downstream did not answer (${cause})`);
    }
    const text = await response.text().catch(() => '');
    let again: number[];
    if (!response.ok) {
      if (!retryable(response.status)) throw new HttpError('bad_gateway', `forwarding ${pending.length} records failed: the downstream answered ${response.status} ${text.slice(0, 200)}`);
      again = pending;
    } else {
      let items: unknown;
      try {
        items = (JSON.parse(text) as { items?: unknown }).items;
      } catch {
        throw new HttpError('bad_gateway', 'forwarding failed: the _bulk answer is not JSON');
      }
      if (!Array.isArray(items) || items.length !== pending.length) {
        throw new HttpError('bad_gateway', `forwarding failed: the _bulk answer has no item per action (${pending.length} sent)`);
      }
      again = [];
      items.forEach((entry, k) => {
        const item = ((entry ?? {}) as { create?: BulkItem }).create ?? {};
        const status = typeof item.status === 'number' ? item.status : 0;
        const index = pending[k]!;
        // 409 on create with our _id: a try before (this request's, or the shipper's) created it.
        if ((status >= 200 && status < 300) || status === 409) return;
        if (retryable(status)) again.push(index);
        else refused.set(index, `${String(item.error?.type ?? `status ${status}`)}: ${String(item.error?.reason ?? '').slice(0, 200)}`);
      });
    }
    if (again.length > 0 && attempt >= BULK_TRIES) {
      throw new HttpError('downstream_unavailable', `forwarding failed: ${again.length} records still refused with 429 or 5xx after ${BULK_TRIES} tries`);
    }
    if (again.length > 0) await new Promise((r) => setTimeout(r, BULK_BACKOFF_MS * 2 ** (attempt - 1)));
    pending = again;
  }
  return refused;
}
