// SPDX-License-Identifier: MIT
// `--forward`: enriched /ingest records go on to a downstream HTTP endpoint (Vector's
// http_server source, Fluent Bit's http input, an Elasticsearch-compatible _bulk) before the
// shipper gets its answer. Vector and Fluent Bit ignore response bodies, so this is how the
// classification reaches a sink; a failed forward fails the request (5xx) and the shipper retries.
import { HttpError } from './errors.js';

export const FORWARD_FORMATS = ['same', 'es-bulk'] as const;
export type ForwardFormat = (typeof FORWARD_FORMATS)[number];

export interface ForwardTarget {
  url: string;
  /** 'same': the framing the shipper sent (JSON array, one object, NDJSON); 'es-bulk': `_bulk` create actions. */
  format: ForwardFormat;
  timeoutMs: number;
  /** Extra request headers (e.g. the downstream's Authorization). */
  headers: Record<string, string>;
}

/** The request body and its content type, from the records' JSON texts. */
function encode(records: readonly string[], framing: 'ndjson' | 'array' | 'object'): { body: string; type: string } {
  if (framing === 'ndjson') return { body: records.map((r) => `${r}\n`).join(''), type: 'application/x-ndjson' };
  return { body: framing === 'array' ? `[${records.join(',')}]` : records[0]!, type: 'application/json' };
}

/**
 * Posts the records (each already JSON text: written once, for the answer and the forward alike);
 * resolves once the downstream answered 2xx. (es-bulk: forwardBulk.ts.)
 */
export async function forwardRecords(records: readonly string[], framing: 'ndjson' | 'array' | 'object', target: ForwardTarget): Promise<void> {
  // es-bulk goes through forwardBulk.ts, which reads the answer item by item.
  if (target.format === 'es-bulk') throw new Error('es-bulk forwards go through forwardBulk()');
  const { body, type } = encode(records, framing);
  let response: Response;
  try {
    response = await fetch(target.url, {
      method: 'POST',
      body,
      headers: { ...target.headers, 'content-type': type },
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new HttpError('downstream_unavailable', `forwarding ${records.length} records failed: the downstream did not answer (${cause})`);
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) {
    throw new HttpError('bad_gateway', `forwarding ${records.length} records failed: the downstream answered ${response.status} ${text.slice(0, 200)}`);
  }
}
