// SPDX-License-Identifier: MIT
// A JetStream classifier worker: pulls from a durable consumer, classifies in batches through
// classifyMany(), publishes each result with Nats-Msg-Id = its source stream and sequence (a
// redelivery after a crash is dropped by the output stream's duplicate window), and acks each
// message only once its result (or dead letter) is acknowledged by JetStream. Redelivery and
// reconnects are the engine's and the client's own. It pulls with bounded fetches, each for no more
// than the room left in its window (batchSize × (batchesInFlight + 1) messages held), so a worker
// never holds work its batches cannot start soon: the durable's other workers get the rest (a
// consume() would pull on receipt, up to max_ack_pending). During a 'pause' model swap
// (ModelSlot) it starts no fetch and no batch; the fetch under way runs out (it is not cut off, so
// nothing the server sent is lost to a closed inbox), and what it brought is kept from redelivery
// (working()) and classified by the new model.
import { jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { ClassificationResult, LogClassifier, SettledClassification } from '../LogClassifier.js';
import { ModelSlot } from '../ModelSlot.js';
import { LogTriageError, MaxDeliverError, MessageFormatError } from '../errors.js';
import { parseOptions } from '../options.js';
import { serializeRecord } from '../records/recordShape.js';
import { enrichRecord } from '../records/enrichRecord.js';
import { registerModelInfoMetric } from '../records/modelInfoMetric.js';
import { connectNats } from './connectNats.js';
import { decodeMessage, type DecodedMessage, type DecodedPayload } from './decodeMessage.js';
import { ensureStreams, type WorkerTopology } from './ensureStreams.js';
import { createWorkerMetrics, type WorkerMetrics } from './workerMetrics.js';
import { workerOptionsSchema, type ResolvedWorkerOptions, type WorkerOptions } from './workerOptions.js';

/** What the dead-letter subject receives: the error and where the message came from. */
export interface DeadLetter {
  error: { code: string; name: string; message: string };
  stream: string;
  seq: number;
  /** For an entry of a Fluent Bit array: its index (its siblings are classified as usual). */
  index?: number;
  subject: string;
  deliveries: number;
  /** The payload (for an array entry: that entry, as JSON) as text when it is UTF-8, else `data_base64`. */
  data?: string;
  data_base64?: string;
}

/** One record of a message on its way through a batch. */
interface Item {
  decoded: DecodedMessage | LogTriageError;
  /** Set for an entry of a Fluent Bit array: its index in the array and the entry as sent. */
  entry?: { index: number; raw: unknown };
  outcome?: ClassificationResult | LogTriageError;
}

/**
 * How long one fetch waits for messages (the server answers a shorter batch at the end). It bounds
 * how long a fetch started before a 'pause' swap keeps taking messages, and how soon an idle worker
 * asks again; the client watches the server's heartbeats for half of it.
 */
const FETCH_EXPIRES_MS = 5_000;
/** After a failed fetch (server gone, consumer deleted), the wait before the next one. */
const FETCH_RETRY_MS = 1_000;

export interface WorkerEvents {
  /** Something went wrong that the worker survives (a publish refused, a consumer notice). */
  onWarning?: (message: string, err?: unknown) => void;
}

export class JetStreamWorker {
  readonly metrics: WorkerMetrics;
  private readonly js: JetStreamClient;
  /** Received and not yet taken into a batch. */
  private readonly waiting: JsMsg[] = [];
  /** Received and not yet acked or left for redelivery: working() goes to each while a batch is long. */
  private readonly held = new Set<JsMsg>();
  private stopping = false;
  /** The fetch under way, closed by stop(). */
  private fetching: ConsumerMessages | undefined;
  /** Wakes the batch loop (a message arrived, a batch ended, stopping). */
  private wake: () => void = () => {};
  /** Wakes the pull loop (room in the window, stopping). */
  private wakePuller: () => void = () => {};
  private readonly workingTimer: NodeJS.Timeout;
  readonly done: Promise<void>;
  /** The model answering now: every batch goes through slot.use(), so a swap (SIGHUP) never disposes a model in use. */
  readonly slot: ModelSlot;

  private constructor(
    model: LogClassifier | ModelSlot,
    private readonly nc: NatsConnection,
    readonly options: ResolvedWorkerOptions,
    readonly topology: WorkerTopology,
    private readonly events: WorkerEvents,
  ) {
    this.slot = model instanceof ModelSlot ? model : new ModelSlot(model, { open: () => Promise.reject(new Error('this worker was started without a ModelSlot: it cannot swap')) });
    this.js = jetstream(nc);
    this.metrics = createWorkerMetrics(this.slot.current.labels, async () => {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.consumers.info(options.stream, options.durable);
      return { pending: info.num_pending, ackPending: info.num_ack_pending };
    }, this.slot.current.stats().templateTier !== undefined ? () => this.slot.current.stats().templateTier : undefined);
    registerModelInfoMetric(this.metrics.registry, 'logtriage_worker_model_info', () => this.slot.current.info);
    // A third of the ack wait: a batch that waits in the classifier's queue never reaches it.
    this.workingTimer = setInterval(() => {
      for (const m of this.held) m.working();
    }, Math.max(100, Math.floor(options.ackWaitMs / 3)));
    this.workingTimer.unref();
    this.done = this.run();
  }

  /** Connects, sets up the streams and consumer, and starts pulling. */
  static async start(model: LogClassifier | ModelSlot, workerOptions: WorkerOptions = {}, events: WorkerEvents = {}): Promise<JetStreamWorker> {
    const options = parseOptions(workerOptionsSchema, workerOptions, 'worker options');
    const nc = await connectNats(options);
    try {
      const topology = await ensureStreams(await jetstreamManager(nc), options);
      return new JetStreamWorker(model, nc, options, topology, events);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  /** True while connected and not draining. */
  get healthy(): boolean {
    return !this.stopping && !this.nc.isClosed() && !this.nc.isDraining();
  }

  /** Why GET /ready answers 503 now (disconnected, draining, swapping the model), else undefined. */
  get notReady(): string | undefined {
    return !this.healthy ? 'not connected or draining' : this.slot.swapReason;
  }

  /** Stops pulling, finishes and acks the messages in hand, closes the connection. Resolves when done. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      // A message the server sends as the fetch closes is redelivered after ack_wait (to another
      // worker, or to this durable's next one). close() settles once run()'s iterator has ended.
      void this.fetching?.close();
      this.wake();
      this.wakePuller();
    }
    await this.done;
  }

  /** Messages held at most: the batches running and one more round waiting for a slot. */
  private get window(): number {
    return this.options.batchSize * (this.options.batchesInFlight + 1);
  }

  private async run(): Promise<void> {
    const consumer = await this.js.consumers.get(this.options.stream, this.options.durable);
    const batching = this.batchLoop();
    try {
      for (;;) {
        // A 'pause' swap under way: nothing is pulled until it is over.
        await this.slot.whenResumed();
        if (this.stopping) break;
        const room = this.window - this.held.size;
        if (room <= 0) {
          await new Promise<void>((resolve) => (this.wakePuller = resolve));
          continue;
        }
        try {
          await this.fetchInto(await consumer.fetch({ max_messages: room, expires: FETCH_EXPIRES_MS }));
        } catch (err) {
          if (this.stopping) break;
          this.events.onWarning?.(`pulling from consumer ${this.options.durable} failed; trying again in ${FETCH_RETRY_MS / 1000} s`, err);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, FETCH_RETRY_MS);
            this.wakePuller = () => (clearTimeout(timer), resolve());
          });
        }
      }
    } finally {
      this.stopping = true;
      this.wake();
      await batching;
      clearInterval(this.workingTimer);
      await this.nc.drain().catch(() => this.nc.close());
    }
  }

  /**
   * Holds each message of one fetch as it arrives; ends when the fetch is filled, expires or is
   * closed. A missing stream or consumer, or missed heartbeats, end it with an error (run() warns).
   */
  private async fetchInto(messages: ConsumerMessages): Promise<void> {
    this.fetching = messages;
    if (this.stopping) void messages.close();
    try {
      for await (const m of messages) {
        this.metrics.linesIn.inc();
        if (m.redelivered) this.metrics.redeliveries.inc();
        this.held.add(m);
        this.waiting.push(m);
        this.wake();
      }
    } finally {
      this.fetching = undefined;
    }
  }

  /** Takes what has arrived (up to batchSize) whenever a batch slot is free: batches grow under load, stay small when idle. */
  private async batchLoop(): Promise<void> {
    const running = new Set<Promise<void>>();
    for (;;) {
      if (this.slot.pausedReason !== undefined) {
        // No batch during a 'pause' swap: the old model is being freed and the new one loaded.
        await this.slot.whenResumed();
        continue;
      }
      if (this.waiting.length > 0 && running.size < this.options.batchesInFlight) {
        const batch = this.waiting.splice(0, this.options.batchSize);
        const p = this.processBatch(batch)
          .catch((err: unknown) => this.giveBack(batch, err))
          .finally(() => {
            running.delete(p);
            this.wake();
          });
        running.add(p);
        continue;
      }
      if (this.stopping && this.waiting.length === 0 && running.size === 0) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** A message acked or left for redelivery: its room in the window goes to the next fetch. */
  private release(m: JsMsg): void {
    this.held.delete(m);
    this.wakePuller();
  }

  /** A batch the classifier failed on as a whole (backend error): nak'd for another try, up to max-deliver. */
  private giveBack(batch: JsMsg[], err: unknown): void {
    this.events.onWarning?.(`a batch of ${batch.length} failed; nak'd for redelivery`, err);
    for (const m of batch) {
      if (!this.held.has(m)) continue;
      m.nak();
      this.release(m);
    }
  }

  private async processBatch(batch: JsMsg[]): Promise<void> {
    const started = performance.now();
    this.metrics.batchLines.observe(batch.length);
    const items = batch.map((m) => this.itemsOf(m));
    const flat = items.flat();
    const outcomes = await this.classify(flat.map((item) => item.decoded));
    flat.forEach((item, i) => (item.outcome = outcomes[i]!));
    await Promise.all(batch.map((m, i) => this.finish(m, items[i]!)));
    this.metrics.batchDuration.observe((performance.now() - started) / 1000);
  }

  /** A message's records (one, or one per entry of a Fluent Bit array), each decoded or with the error that dead-letters it. */
  private itemsOf(m: JsMsg): Item[] {
    if (m.info.deliveryCount > this.options.maxDeliver) return [{ decoded: new MaxDeliverError(m.info.deliveryCount, this.options.maxDeliver) }];
    let payload: DecodedPayload;
    try {
      payload = decodeMessage(m.data, this.options.input, this.options.messageField);
    } catch (err) {
      if (err instanceof MessageFormatError) return [{ decoded: err }];
      throw err;
    }
    if (!payload.framed) return [{ decoded: payload.entries[0] }];
    return payload.entries.map((decoded, index) => ({ decoded, entry: { index, raw: payload.raw[index] } }));
  }

  /** One outcome per record: a result, or the error that dead-letters it (a line refused on its own, as the classifier says). */
  private async classify(decoded: Array<DecodedMessage | LogTriageError>): Promise<Array<ClassificationResult | LogTriageError>> {
    const texts = decoded.flatMap((d) => (d instanceof LogTriageError ? [] : [d.text]));
    const settled = texts.length > 0 ? await this.slot.use((classifier): Promise<SettledClassification[]> => classifier.classifyMany(texts, { settled: true })) : [];
    let next = 0;
    return decoded.map((d) => {
      if (d instanceof LogTriageError) return d;
      const outcome = settled[next++]!;
      return outcome.status === 'fulfilled' ? outcome.value : outcome.reason;
    });
  }

  /** `<stream>:<seq>`, and `:<index>` for an entry of a Fluent Bit array: the same on every redelivery. */
  private msgId(m: JsMsg, entry?: Item['entry']): string {
    return `${m.info.stream}:${m.seq}${entry ? `:${entry.index}` : ''}`;
  }

  /**
   * Publishes each record's result or dead letter, then acks; a refused publish leaves the message
   * to the engine's redelivery. The metrics count what the output stream took as new: a result
   * published again on a redelivery is dropped there as a duplicate, and not counted twice.
   */
  private async finish(m: JsMsg, items: Item[]): Promise<void> {
    const published = await Promise.all(items.map((item) => this.publish(m, item)));
    if (published.includes('refused')) {
      // The siblings already published are dropped as duplicates when the redelivery publishes them again.
      this.release(m);
      return;
    }
    m.ack();
    this.release(m);
    for (const [i, { outcome }] of items.entries()) {
      if (published[i] === 'duplicate') continue;
      if (outcome instanceof LogTriageError) {
        this.metrics.deadLettered.inc({ code: outcome.code });
        continue;
      }
      this.metrics.linesOut.inc();
      if (outcome!.review) this.metrics.reviews.inc({ label: outcome!.label });
      if (outcome!.alert) this.metrics.alerts.inc({ label: outcome!.label });
    }
  }

  /** Publishes one record's result or dead letter: 'new', 'duplicate' (published before, dropped by the stream) or 'refused'. */
  private async publish(m: JsMsg, item: Item): Promise<'new' | 'duplicate' | 'refused'> {
    const { decoded, entry } = item;
    if (!(item.outcome instanceof LogTriageError)) {
      // A result that cannot be written as JSON is dead-lettered alone, with why.
      const { record, altered } = decoded as DecodedMessage;
      // The labels of the model that produced it (a swap may fall between batches).
      const enriched = enrichRecord(record, item.outcome!, Object.keys(item.outcome!.scores), this.options.ecs);
      // What JSON.parse changed is said on the result, as /ingest does.
      if (altered) enriched.logtriage = { ...(enriched.logtriage as object), altered };
      const written = serializeRecord(enriched);
      if ('json' in written) return this.send(m, item, this.options.outSubject, written.json);
      item.outcome = new MessageFormatError(written.problem);
    }
    return this.send(m, item, this.options.deadLetterSubject, JSON.stringify(this.deadLetter(m, item.outcome, entry)));
  }

  private async send(m: JsMsg, item: Item, subject: string, payload: string): Promise<'new' | 'duplicate' | 'refused'> {
    const { outcome, entry } = item;
    const h = headers();
    h.set('Logtriage-Source-Subject', m.subject);
    h.set('Logtriage-Source-Seq', String(m.seq));
    if (entry) h.set('Logtriage-Source-Index', String(entry.index));
    if (outcome instanceof LogTriageError) h.set('Logtriage-Error-Code', outcome.code);
    else h.set('Logtriage-Model', outcome!.model); // the weights that produced it, also in the record's logtriage.model
    const msgID = this.msgId(m, entry);
    try {
      const ack = await this.js.publish(subject, payload, { msgID, headers: h });
      return ack.duplicate ? 'duplicate' : 'new';
    } catch (err) {
      this.metrics.publishFailures.inc();
      this.events.onWarning?.(`publishing the result of ${msgID} failed; it will be redelivered`, err);
      return 'refused';
    }
  }

  private deadLetter(m: JsMsg, err: LogTriageError, entry: Item['entry']): DeadLetter {
    let text: string | undefined;
    try {
      text = entry ? JSON.stringify(entry.raw) : new TextDecoder('utf-8', { fatal: true }).decode(m.data);
    } catch {
      text = undefined;
    }
    return {
      error: { code: err.code, name: err.name, message: err.message },
      stream: m.info.stream,
      seq: m.seq,
      ...(entry ? { index: entry.index } : {}),
      subject: m.subject,
      deliveries: m.info.deliveryCount,
      ...(text !== undefined ? { data: text } : { data_base64: Buffer.from(m.data).toString('base64') }),
    };
  }
}
