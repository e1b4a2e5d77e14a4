// SPDX-License-Identifier: MIT
// `POST /ingest`: records as log shippers send them (a JSON array, one object, or NDJSON), each
// answered with its classification added and, with --forward, sent on downstream. Records not
// classified (skipped, rejected) are answered by runs: the answer never outgrows the body for them,
// and it is written out in chunks.
import { Readable } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { enrichRecord } from '../records/enrichRecord.js';
import { readField, type LogRecord } from '../records/readField.js';
import { serializeRecord } from '../records/recordShape.js';
import { collectBody } from './bodyChunks.js';
import type { ClassifyGate } from './ClassifyGate.js';
import { bulkIds, forwardBulk, withoutMetadataFields, type BulkTarget } from './forwardBulk.js';
import { forwardRecords } from './forwardRecords.js';
import { NdjsonText, readIngestItems, readJsonBody, type IngestItem, type RunItem } from './ingestRecords.js';
import type { ServerMetrics } from './metrics.js';
import { TurnBudget } from './TurnBudget.js';
import type { ResolvedServerOptions } from './serverOptions.js';

/** A classified record on its way out: its JSON text, and whether it goes on to --forward. */
interface WrittenRecord {
  json: string;
  /** The record as answered, and as the shipper sent it (for the _bulk `_id`). */
  enriched: LogRecord;
  source: LogRecord;
}

/** What the answer holds for one item: a classified record's text, or a run of records answered alike. */
type AnswerEntry = WrittenRecord | RunItem;

/** Per run (with --forward), its records the _bulk downstream refused for good: place in the run → reason. */
type ForwardErrors = Map<RunItem, Map<number, string>>;

/** One record going on to --forward, and how to say on its answer that the downstream refused it for good. */
interface Forwarded {
  json: string;
  enriched: LogRecord;
  source: LogRecord;
  refused: (reason: string) => void;
}

/**
 * es-bulk: each record created with a deterministic `_id`, without `_` fields; a record
 * Elasticsearch refuses for good is answered with `logtriage.forward_error` (a retry cannot help).
 */
async function forwardEachToBulk(forwarded: Forwarded[], target: BulkTarget, log: FastifyBaseLogger): Promise<void> {
  const ids = bulkIds(forwarded.map((w) => JSON.stringify(w.source)));
  const docs = forwarded.map((w) => JSON.stringify(withoutMetadataFields(w.enriched)));
  const refused = await forwardBulk(docs, ids, target);
  if (refused.size > 0) log.warn({ refused: refused.size }, 'records refused for good by the _bulk downstream');
  for (const [i, reason] of refused) forwarded[i]!.refused(reason);
}

/** Characters of answer text gathered before they are written (and the event loop served). */
const ANSWER_CHUNK_CHARS = 64 * 1024;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The answer texts of one entry: one for a classified record or a plain run; a run split around its records' forward errors. */
function* entryTexts(entry: AnswerEntry, forwardErrors: ForwardErrors, texts: Map<RunItem, string>): Generator<string> {
  if (!('run' in entry)) {
    yield entry.json;
    return;
  }
  const runText = (records: number, extra?: object) => JSON.stringify({ logtriage: { ...entry.run, records, ...extra } });
  const refused = forwardErrors.get(entry);
  if (refused === undefined) {
    if (entry.records > 1 || entry.kept) {
      yield runText(entry.records);
      return;
    }
    // Runs of one record are shared objects (ingestRecords.ts): their text is written once.
    let text = texts.get(entry);
    if (text === undefined) texts.set(entry, (text = runText(1)));
    yield text;
    return;
  }
  let from = 0;
  for (const [at, reason] of [...refused].sort((a, b) => a[0] - b[0])) {
    if (at > from) yield runText(at - from);
    yield runText(1, { forward_error: reason });
    from = at + 1;
  }
  if (from < entry.records) yield runText(entry.records - from);
}

/**
 * The answer, in the body's framing, written out in chunks: never one string of the whole
 * answer, and the event loop is served between chunks. `finished` runs once it ends or stops.
 */
async function* answerChunks(entries: AnswerEntry[], forwardErrors: ForwardErrors, framing: 'ndjson' | 'array' | 'object', finished: () => void): AsyncGenerator<string> {
  try {
    let chunk = framing === 'array' ? '[' : '';
    let first = true;
    const texts = new Map<RunItem, string>();
    for (const entry of entries) {
      for (const text of entryTexts(entry, forwardErrors, texts)) {
        chunk += framing === 'ndjson' ? `${text}\n` : first ? text : `,${text}`;
        first = false;
      }
      if (chunk.length >= ANSWER_CHUNK_CHARS) {
        yield chunk;
        chunk = '';
        await nextTurn();
      }
    }
    if (framing === 'array') chunk += ']';
    if (chunk.length > 0) yield chunk;
  } finally {
    finished();
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
    // An array is read element by element, with the event loop served between slices (one
    // JSON.parse of a 2 MB array held /health for 0.4 s), and judged as it is read: its records
    // are never all held at once. Before admission, as the whole parse was: a body that is not
    // JSON is still answered 400 before a full server's 429.
    // A body whose client hangs up is read no further (its answer has no reader).
    const readOptions = (request: FastifyRequest) => ({
      maxRecords: options.maxIngestRecords,
      messageField: options.messageField,
      keepSkipped: options.forwardUrl !== undefined,
      clientGone: () => request.raw.socket?.destroyed === true,
    });
    // Bodies are kept as their chunks and decoded a piece at a time as they are read (bodyChunks.ts).
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', async (request: FastifyRequest, payload: Readable) => readJsonBody(await collectBody(request, payload, options.payloadLimit), readOptions(request)));
    // Read in slices by the handler, once admitted: a 2 MB body is 700,000 lines.
    scope.addContentTypeParser(NDJSON_TYPES, async (request: FastifyRequest, payload: Readable) => new NdjsonText(await collectBody(request, payload, options.payloadLimit)));
    // Long lines are always truncated here: one long line must not cost a shipper its whole batch.
    // Every record is answered on its own (classified, or in a run of records skipped or rejected
    // for one reason), and written out alone: a record that cannot be serialised never fails its
    // neighbours.
    scope.post('/ingest', async (request, reply) => {
      // Admitted whatever it holds: records without a message cost parsing and forwarding too.
      let admitted: (() => void) | undefined = gate.admit();
      const release = () => {
        admitted?.();
        admitted = undefined;
      };
      let answering = false;
      try {
        const field = options.messageField;
        const forwarding = options.forwardUrl !== undefined;
        const { items, framing } = await readIngestItems(request.body, readOptions(request));
        const toClassify: string[] = [];
        for (const item of items) if ('record' in item) toClassify.push(readField(item.record, field) as string);
        const results = toClassify.length > 0 ? await gate.classifyTexts(reply, toClassify, { chunkLines: INGEST_CHUNK_LINES, truncate: true }) : [];
        // Each answer entry takes its item's place: one array for both, where a body of 800,000
        // records that alternate outcomes (no runs) held two slots per record (+9 MiB a body).
        const entries: Array<IngestItem | AnswerEntry> = items;
        const forwarded: Forwarded[] = [];
        const forwardErrors: ForwardErrors = new Map();
        let next = 0;
        let rejected = 0;
        const turns = new TurnBudget(INGEST_CHUNK_LINES);
        for (const [i, item] of items.entries()) {
          if (turns.spent()) await turns.nextSlice();
          if ('run' in item) {
            if ('rejected' in item.run) rejected += item.records;
            // Skipped records go on to --forward whole, each with its reason, as they always did.
            item.kept?.forEach((kept, at) => {
              const enriched = enrichRecord(kept.record, (item.run as { skipped: string }).skipped, gate.labels, options.ecs);
              if (kept.altered) enriched.logtriage = { ...(enriched.logtriage as object), altered: kept.altered };
              const out = serializeRecord(enriched);
              if ('json' in out) forwarded.push({ json: out.json, enriched, source: kept.record, refused: (reason) => forwardErrors.set(item, (forwardErrors.get(item) ?? new Map()).set(at, reason)) });
            });
            continue;
          }
          const result = results[next++]!;
          const enriched = enrichRecord(item.record, result, gate.labelsOf(result), options.ecs);
          // What JSON.parse changed (a rounded big integer, Infinity, a repeated key) is said, not hidden.
          if (item.altered) enriched.logtriage = { ...(enriched.logtriage as object), altered: item.altered };
          const out = serializeRecord(enriched);
          if ('problem' in out) {
            entries[i] = { run: { rejected: out.problem }, records: 1 };
            rejected++;
            continue;
          }
          const written: WrittenRecord = { json: out.json, enriched, source: item.record };
          entries[i] = written;
          if (forwarding) {
            forwarded.push({
              ...written,
              refused: (reason) => (written.json = JSON.stringify({ ...enriched, logtriage: { ...(enriched.logtriage as object), forward_error: reason } })),
            });
          }
        }
        if (rejected > 0) {
          metrics.ingestRejected.inc(rejected);
          request.log.warn({ rejected }, 'records rejected on their own');
        }
        if (options.forwardUrl !== undefined && forwarded.length > 0) {
          const target = { url: options.forwardUrl, timeoutMs: options.forwardTimeoutMs, headers: options.forwardHeaders };
          if (options.forwardFormat === 'es-bulk') await forwardEachToBulk(forwarded, target, request.log);
          else await forwardRecords(forwarded.map((w) => w.json), framing, { ...target, format: options.forwardFormat });
        }
        // Already JSON text: fastify's serializer (recursive) never sees the records. The place
        // taken in admission is held until the answer is written out, or the client is gone.
        reply.raw.once('close', release);
        // Every record item was replaced above: only answer entries are left.
        const stream = Readable.from(answerChunks(entries as AnswerEntry[], forwardErrors, framing, release));
        answering = true;
        return reply.type(framing === 'ndjson' ? 'application/x-ndjson' : 'application/json; charset=utf-8').send(stream);
      } finally {
        if (!answering) release();
      }
    });
  });
}
