// SPDX-License-Identifier: MIT
// The input stream, the output stream and the durable pull consumer: created when missing
// (idempotent, so several workers may start at once), or required to exist. Refuses a setup whose
// output flows back into the input.
import { AckPolicy, JetStreamApiError, type ConsumerInfo, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { BrokerError, ValidationError } from '../errors.js';
import { subjectMatches } from './subjectMatches.js';
import type { ResolvedWorkerOptions } from './workerOptions.js';

/** The engine's "not found" codes for a stream (10059) and a consumer (10014). */
const NOT_FOUND = new Set([10059, 10014]);
/** Shortest duplicate window for the output stream (JetStream's default). */
const MIN_DUPLICATE_WINDOW_MS = 120_000;

const isNotFound = (err: unknown) => err instanceof JetStreamApiError && NOT_FOUND.has(err.code);

async function infoOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Adds a stream unless it exists; a worker that lost the race to another reads the winner's. */
async function ensureStream(jsm: JetStreamManager, name: string, create: () => Promise<StreamInfo>, allowCreate: boolean): Promise<StreamInfo> {
  const existing = await infoOrUndefined(() => jsm.streams.info(name));
  if (existing) return existing;
  if (!allowCreate) throw new BrokerError(`stream ${name} does not exist (and create is off: --no-create)`);
  try {
    return await create();
  } catch (err) {
    const raced = await infoOrUndefined(() => jsm.streams.info(name));
    if (raced) return raced;
    throw err;
  }
}

export interface WorkerTopology {
  input: StreamInfo;
  output: StreamInfo;
  consumer: ConsumerInfo;
}

export async function ensureStreams(jsm: JetStreamManager, o: ResolvedWorkerOptions): Promise<WorkerTopology> {
  for (const target of [o.outSubject, o.deadLetterSubject]) {
    const filter = o.subjects.find((s) => subjectMatches(s, target));
    if (filter) throw new ValidationError(`the output subject '${target}' is captured by the input subjects ('${filter}'): results would be classified again, forever`);
  }
  const input = await ensureStream(
    jsm,
    o.stream,
    () => jsm.streams.add({ name: o.stream, subjects: o.subjects, storage: o.storage, num_replicas: o.replicas }),
    o.create,
  );
  // An existing input stream is checked against its own subjects, whatever --subjects says.
  for (const target of [o.outSubject, o.deadLetterSubject]) {
    const filter = (input.config.subjects ?? []).find((s) => subjectMatches(s, target));
    if (filter) throw new ValidationError(`the output subject '${target}' is captured by input stream ${o.stream} ('${filter}'): results would be classified again, forever`);
  }
  // A redelivery after a crash is dropped by the duplicate window only while it lasts: it must outlast every retry.
  const duplicateWindowMs = Math.max(MIN_DUPLICATE_WINDOW_MS, o.ackWaitMs * (o.maxDeliver + 2));
  const output = await ensureStream(
    jsm,
    o.outStream,
    () =>
      jsm.streams.add({
        name: o.outStream,
        subjects: [...new Set([o.outSubject, o.deadLetterSubject])],
        storage: o.storage,
        num_replicas: o.replicas,
        duplicate_window: nanos(duplicateWindowMs),
      }),
    o.create,
  );
  for (const target of [o.outSubject, o.deadLetterSubject]) {
    const owner = await infoOrUndefined(() => jsm.streams.find(target)).catch(() => undefined);
    if (owner === undefined) throw new BrokerError(`no stream captures '${target}': results published there would be lost`);
  }
  let consumer = await infoOrUndefined(() => jsm.consumers.info(o.stream, o.durable));
  if (!consumer) {
    if (!o.create) throw new BrokerError(`consumer ${o.durable} on stream ${o.stream} does not exist (and create is off: --no-create)`);
    // Same config from every worker: the engine answers the existing consumer to all but the first.
    consumer = await jsm.consumers.add(o.stream, {
      durable_name: o.durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(o.ackWaitMs),
      max_deliver: o.maxDeliver + 1,
      max_ack_pending: o.maxAckPending,
    });
  }
  if (consumer.config.ack_policy !== AckPolicy.Explicit) throw new BrokerError(`consumer ${o.durable} must use explicit acks, not '${consumer.config.ack_policy}'`);
  return { input, output, consumer };
}
