// SPDX-License-Identifier: MIT
// `POST /ingest`: records as log shippers send them (a JSON array, one object, or NDJSON), each
// answered with its classification added and, with --forward, sent on downstream.
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { enrichRecord } from '../records/enrichRecord.js';
import { readField, skipReason, type LogRecord } from '../records/readField.js';
import { serializeRecord } from '../records/recordShape.js';
import type { ClassifyGate } from './classifyGate.js';
import { bulkIds, forwardBulk, withoutMetadataFields, type BulkTarget } from './forwardBulk.js';
import { forwardRecords } from './forwardRecords.js';
import { parseJsonBody, parseNdjson, recordsOf } from './ingestRecords.js';
import type { ServerMetrics } from './metrics.js';
import type { ResolvedServerOptions } from './serverOptions.js';

/** One /ingest record on its way out: its JSON text, and whether it goes on to --forward. */
interface WrittenRecord {
  json: string;
  forward: boolean;
  /** The record as answered, and as the shipper sent it (for the _bulk `_id`). */
  enriched?: LogRecord;
  source?: LogRecord;
}

/**
 * es-bulk: each record created with a deterministic `_id`, without `_` fields; a record
 * Elasticsearch refuses for good is answered with `logtriage.forward_error` (a retry cannot help).
 */
async function forwardEachToBulk(written: WrittenRecord[], target: BulkTarget, log: FastifyBaseLogger): Promise<void> {
  const ids = bulkIds(written.map((w) => JSON.stringify(w.source)));
  const docs = written.map((w) => JSON.stringify(withoutMetadataFields(w.enriched!)));
  const refused = await forwardBulk(docs, ids, target);
  if (refused.size > 0) log.warn({ refused: refused.size }, 'records refused for good by the _bulk downstream');
  for (const [i, reason] of refused) {
    const w = written[i]!;
    w.json = JSON.stringify({ ...w.enriched, logtriage: { ...(w.enriched!.logtriage as object), forward_error: reason } });
  }
}

/** Lines one `/ingest` request hands the classifier at a time, so a big batch cannot fill the queue alone. */
const INGEST_CHUNK_LINES = 512;

const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonlines', 'application/json-lines', 'application/jsonl'];

export function registerIngestRoute(app: FastifyInstance, gate: ClassifyGate, options: ResolvedServerOptions, metrics: ServerMetrics): void {
  // NDJSON is read by /ingest only: its parser lives in this encapsulated scope.
  app.register(async (scope) => {
    // A `__proto__` or `constructor.prototype` key is data in a log record: JSON.parse makes it an
    // own property, never the prototype, and nothing here merges records by assignment. fastify's
    // JSON parser refuses such a body (proto-poisoning guard), which failed every record around
    // one such record with a 400; the NDJSON parser took them. /ingest reads JSON with JSON.parse,
    // as it reads NDJSON; the other routes keep the guard.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
      try {
        done(null, parseJsonBody(text as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    scope.addContentTypeParser(NDJSON_TYPES, { parseAs: 'string' }, (_request, text, done) => {
      try {
        done(null, parseNdjson(text as string, options.maxIngestRecords));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    // Long lines are always truncated here: one long line must not cost a shipper its whole batch.
    // Every record is answered on its own (classified, skipped or rejected with its reason), and
    // written out alone: a record that cannot be serialised never fails its neighbours.
    scope.post('/ingest', async (request, reply) => {
      const { items, framing } = recordsOf(request.body, options.maxIngestRecords);
      // Admitted whatever it holds: records without a message cost parsing, copying and forwarding too.
      const release = gate.admit();
      try {
        const field = options.messageField;
        const outcomes = items.map((item) => ('rejected' in item ? undefined : skipReason(readField(item.record, field), field)));
        const toClassify = items.flatMap((item, i) => ('record' in item && outcomes[i] === undefined ? [readField(item.record, field) as string] : []));
        const results = toClassify.length > 0 ? await gate.classifyTexts(reply, toClassify, INGEST_CHUNK_LINES) : [];
        let next = 0;
        const written = items.map((item, i): WrittenRecord => {
          if ('rejected' in item) return { json: JSON.stringify({ logtriage: { rejected: item.rejected } }), forward: false };
          const outcome = outcomes[i] ?? results[next++]!;
          const enriched = enrichRecord(item.record, outcome, gate.labels, options.ecs, typeof outcome === 'string' ? undefined : gate.alertOf(outcome));
          // What JSON.parse changed (a rounded big integer, Infinity, a repeated key) is said, not hidden.
          if (item.altered) enriched.logtriage = { ...(enriched.logtriage as object), altered: item.altered };
          const out = serializeRecord(enriched);
          if ('json' in out) return { json: out.json, forward: true, enriched, source: item.record };
          return { json: JSON.stringify({ logtriage: { rejected: `record ${i}: ${out.problem}` } }), forward: false };
        });
        const rejected = written.filter((w) => !w.forward).length;
        if (rejected > 0) {
          metrics.ingestRejected.inc(rejected);
          request.log.warn({ rejected }, 'records rejected on their own');
        }
        if (options.forwardUrl !== undefined) {
          const forwarded = written.filter((w) => w.forward);
          const target = { url: options.forwardUrl, timeoutMs: options.forwardTimeoutMs, headers: options.forwardHeaders };
          if (forwarded.length > 0 && options.forwardFormat === 'es-bulk') {
            await forwardEachToBulk(forwarded, target, request.log);
          } else if (forwarded.length > 0) {
            await forwardRecords(forwarded.map((w) => w.json), framing, { ...target, format: options.forwardFormat });
          }
        }
        const parts = written.map((w) => w.json);
        if (framing === 'ndjson') return reply.type('application/x-ndjson').send(parts.map((p) => `${p}\n`).join(''));
        // Already JSON text: fastify's serializer (recursive) never sees the records.
        return reply.type('application/json; charset=utf-8').send(framing === 'array' ? `[${parts.join(',')}]` : parts[0]);
      } finally {
        release();
      }
    });
  });
}
