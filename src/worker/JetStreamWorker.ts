// SPDX-License-Identifier: MIT
// A JetStream classifier worker: pulls from a durable consumer, classifies in batches through
// classifyMany(), publishes each result with Nats-Msg-Id = its source stream and sequence (a
// redelivery after a crash is dropped by the output stream's duplicate window), and acks each
// message only once its result (or dead letter) is acknowledged by JetStream. Redelivery,
// backpressure (max_ack_pending) and reconnects are the engine's and the client's own. During a
// 'pause' model swap (ModelSlot) the worker stops pulling (its pull subscription is closed, so the
// durable's other workers take the stream meanwhile) and starts no batch; the messages in hand are
// kept from redelivery (working()) and classified by the new model, then pulling starts again.
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

/** Input errors that belong to one line: the line is dead-lettered, the rest of its batch goes on. */

export interface WorkerEvents {
  /** Something went wrong that the worker survives (a publish refused, a consumer notice). */
  onWarning?: (message: string, err?: unknown) => void;
}

export class JetStreamWorker {
  readonly metrics: WorkerMetrics;
  private readonly js: JetStreamClient;
  private messages: ConsumerMessages | undefined;
  /** Received and not yet taken into a batch. */
  private readonly waiting: JsMsg[] = [];
  /** Received and not yet acked or left for redelivery: working() goes to each while a batch is long. */
  private readonly held = new Set<JsMsg>();
  private batchesRunning = 0;
  private stopping = false;
  /** Set when the pull subscription was closed for a 'pause' swap: pulling starts again after it. */
  private pulledBack = false;
  private wake: () => void = () => {};
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
    this.slot.onPause(() => {
      if (this.stopping || this.messages === undefined) return;
      this.pulledBack = true;
      void this.messages.close(); // what was received is still yielded (and held) before the loop ends
    });
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
      // close() settles once the iterator in run() has ended, so it is not awaited here.
      void this.messages?.close();
      this.wake();
    }
    await this.done;
  }

  private async run(): Promise<void> {
    const consumer = await this.js.consumers.get(this.options.stream, this.options.durable);
    const batching = this.batchLoop();
    try {
      for (;;) {
        // A 'pause' swap under way: nothing is pulled until it is over.
        await this.slot.whenResumed();
        if (this.stopping) break;
        // The client keeps at most this many messages pulled ahead of the batches.
        const messages = await consumer.consume({ max_messages: this.options.batchSize * (this.options.batchesInFlight + 1) });
        this.messages = messages;
        if (this.stopping || this.slot.pausedReason !== undefined) {
          this.pulledBack = !this.stopping;
          void messages.close();
        }
        void this.watchStatus(messages);
        for await (const m of messages) {
          this.metrics.linesIn.inc();
          if (m.redelivered) this.metrics.redeliveries.inc();
          this.held.add(m);
          this.waiting.push(m);
          this.wake();
        }
        if (!this.pulledBack || this.stopping) break;
        this.pulledBack = false;
      }
    } finally {
      this.stopping = true;
      this.wake();
      await batching;
      clearInterval(this.workingTimer);
      await this.nc.drain().catch(() => this.nc.close());
    }
  }

  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (s.type === 'heartbeats_missed' || s.type === 'consumer_not_found' || s.type === 'stream_not_found' || s.type === 'consumer_deleted') {
        this.events.onWarning?.(`consumer ${this.options.durable}: ${s.type}`);
      }
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

  /** A batch the classifier failed on as a whole (backend error): nak'd for another try, up to max-deliver. */
  private giveBack(batch: JsMsg[], err: unknown): void {
    this.events.onWarning?.(`a batch of ${batch.length} failed; nak'd for redelivery`, err);
    for (const m of batch) {
      if (!this.held.delete(m)) continue;
      m.nak();
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
      this.held.delete(m);
      return;
    }
    m.ack();
    this.held.delete(m);
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
