// SPDX-License-Identifier: MIT
// Options of a JetStream classifier worker, with their defaults.
import { z } from 'zod';

const positiveInt = (max: number) => z.number().int().min(1).max(max);
/** A concrete NATS subject: dot-separated tokens, no wildcards or whitespace. */
const subject = z.string().regex(/^[^\s.*>]+(\.[^\s.*>]+)*$/, 'a NATS subject without wildcards');
/** A subject filter: tokens may be `*`, and the last may be `>`. */
const subjectFilter = z.string().regex(/^([^\s.*>]+|\*)(\.([^\s.*>]+|\*))*(\.>)?$|^>$/, 'a NATS subject or wildcard filter');
const streamName = z.string().regex(/^[^\s.*>/\\]+$/, 'a stream name (no spaces, dots, *, >, slashes)');

export const workerOptionsSchema = z
  .object({
    /** NATS server URLs; the client reconnects to any of them. */
    servers: z.array(z.string().min(1)).min(1).default(['nats://127.0.0.1:4222']),
    /** Input stream: what the shippers publish into. */
    stream: streamName.default('LOGS'),
    /** Subjects the input stream captures when the worker creates it. */
    subjects: z.array(subjectFilter).min(1).default(['logs.raw.>']),
    /** Durable pull consumer shared by every worker of the same name. */
    durable: streamName.default('logtriage'),
    /** Output stream: results and dead letters. */
    outStream: streamName.default('LOGS_CLASSIFIED'),
    outSubject: subject.default('logs.classified'),
    deadLetterSubject: subject.default('logs.dead'),
    /** 'raw': each message is one log line; 'json': a JSON record whose `messageField` is classified, or Fluent Bit's `nats` array of `[timestamp, {record}]` (each entry a record). */
    input: z.enum(['raw', 'json']).default('raw'),
    /** Field of a JSON record to classify; a dotted path reaches into nested objects. Raw lines go out under this name. */
    messageField: z.string().min(1).default('message'),
    /** Results carry ECS fields (event.kind/category/type/risk_score) instead of `logtriage: {label, score}`. */
    ecs: z.boolean().default(false),
    /** Most messages handed to classifyMany() at once. */
    batchSize: positiveInt(65_536).default(64),
    /** Batches classified at once: two keep the model busy while the previous batch is published and acked. */
    batchesInFlight: positiveInt(64).default(2),
    /** Tries per message; the next delivery dead-letters it (the consumer's max_deliver is this + 1). */
    maxDeliver: positiveInt(1_000).default(5),
    /** The consumer's ack wait: an unacked message is redelivered after it (working() extends it while a batch runs). */
    ackWaitMs: positiveInt(3_600_000).default(30_000),
    /** The consumer's max_ack_pending: the engine stops delivering past it (backpressure). */
    maxAckPending: positiveInt(1_000_000).default(1_024),
    /** Create missing streams and the consumer; false requires them to exist. */
    create: z.boolean().default(true),
    /** Input stream storage when created: 'file' survives a server restart. */
    storage: z.enum(['file', 'memory']).default('file'),
    /** Stream replicas when created (3 on a 3-node cluster). */
    replicas: positiveInt(5).default(1),
    /** Authentication: at most one of creds, token, user + password. */
    creds: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    /** CA certificate (PEM file) that signs the servers' TLS certificates. */
    tlsCa: z.string().min(1).optional(),
    /** Client name shown in the server's connection list. */
    name: z.string().min(1).default('logtriage-worker'),
  })
  .strict()
  .refine((o) => [o.creds !== undefined, o.token !== undefined, o.user !== undefined].filter(Boolean).length <= 1, {
    message: 'at most one of creds, token, or user + password',
  })
  .refine((o) => (o.user === undefined) === (o.password === undefined), { message: 'user and password together' });

export type WorkerOptions = z.input<typeof workerOptionsSchema>;
export type ResolvedWorkerOptions = z.output<typeof workerOptionsSchema>;
