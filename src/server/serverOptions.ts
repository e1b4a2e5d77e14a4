// SPDX-License-Identifier: MIT
// Options of createServer(), with their defaults (TEI's where TEI has the option).
import { z } from 'zod';
import { FORWARD_FORMATS } from './forwardRecords.js';

const positiveInt = (max: number) => z.number().int().min(1).max(max);

export const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

export const serverOptionsSchema = z
  .object({
    /** Name reported in `/info` and `/v1/classify`; default: the model file name without `.gguf`. */
    modelId: z.string().min(1).optional(),
    /** Requests classified at once; past it the server answers 429 with Retry-After (TEI default 512). */
    maxConcurrentRequests: positiveInt(1_000_000).default(512),
    /** Most inputs in one `/predict` or `/v1/classify` request; more is a 422 (TEI default 32). */
    maxClientBatchSize: positiveInt(1_000_000).default(32),
    /**
     * Most records in one `/ingest` body (JSON array items or NDJSON lines); more is a 413 naming
     * it. The payload limit alone let a 2 MB body carry ~700,000 `{}` records, each copied,
     * enriched and answered.
     */
    maxIngestRecords: positiveInt(10_000_000).default(10_000),
    /** Most body bytes, after gzip decoding; more is a 413 (TEI default 2 MB). */
    payloadLimit: positiveInt(2 ** 31 - 1).default(2_000_000),
    /** What a request without `truncate` gets: true truncates long inputs, false answers 422. */
    autoTruncate: z.boolean().default(true),
    /** The side the classifier keeps: must match its `truncation` open option ('right' or 'left'). */
    truncationDirection: z.enum(['right', 'left']).default('right'),
    /** When set, every route but /health needs `Authorization: Bearer <apiKey>`. */
    apiKey: z.string().min(1).optional(),
    /** Field of an `/ingest` record to classify; a dotted path reaches into nested objects. */
    messageField: z.string().min(1).default('message'),
    /** `/ingest` adds ECS fields (event.kind/category/type/risk_score, logtriage.*) instead of `logtriage`. */
    ecs: z.boolean().default(false),
    /** Time for a client to send a whole request (headers and body); then 408 and the socket closes. */
    requestTimeoutMs: positiveInt(3_600_000).default(30_000),
    /**
     * Time to write a whole answer once it is ready; a client that does not read it in that time
     * has its socket closed (its answer and records are not held for it).
     */
    writeTimeoutMs: positiveInt(3_600_000).default(30_000),
    /** Pino level of the request logs (written to `logStream`). */
    logLevel: z.enum(LOG_LEVELS).default('silent'),
    /** Also log request bodies (at info, beside the request logs); off by default because logs may be sensitive. */
    logBodies: z.boolean().default(false),
    /** `/ingest` forwards the enriched records here and answers only once the downstream accepted them (502/503 otherwise). */
    forwardUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** 'same': the framing the shipper sent; 'es-bulk': Elasticsearch `_bulk` create actions. */
    forwardFormat: z.enum(FORWARD_FORMATS).default('same'),
    /** Time the downstream has to answer a forward; then 503. */
    forwardTimeoutMs: positiveInt(600_000).default(10_000),
    /** Headers added to every forward (e.g. the downstream's Authorization). */
    forwardHeaders: z.record(z.string(), z.string()).default({}),
    logStream: z.custom<NodeJS.WritableStream>((v) => typeof (v as NodeJS.WritableStream)?.write === 'function', {
      message: 'a writable stream',
    }).optional(),
  })
  .strict();

export type ServerOptions = z.input<typeof serverOptionsSchema>;
export type ResolvedServerOptions = z.output<typeof serverOptionsSchema>;
