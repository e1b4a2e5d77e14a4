// SPDX-License-Identifier: MIT
// `logtriage worker`: one classifier worker on a NATS JetStream stream until SIGTERM or SIGINT,
// which stop pulling, finish and ack the messages in hand, and exit 0. A second signal exits
// at once with 1. SIGHUP re-reads --model and swaps to it (--swap-mode overlap|pause, as serve).
import { openClassifier } from '../openClassifier.js';
import { parseOptions } from '../../options.js';
import { JetStreamWorker, serveWorkerMetrics, type WorkerOptions } from '../../worker/index.js';
import { ModelSlot, WARMUP_LINE, type SwapMode } from '../../ModelSlot.js';
import { workerOptionsSchema } from '../../worker/workerOptions.js';
import { CALIBRATION, MAX_TOKENS, openOptionsFrom, SPECIAL_TOKENS, THREADS, TRUNCATION, VERIFY } from '../modelFlags.js';
import { secretFrom } from '../readSecretFile.js';
import { redactUserinfo } from '../../redactUserinfo.js';
import { escapeTerminal } from '../output/escapeTerminal.js';

/** The engine flags of classify but --batch-size, which here counts messages per classifyMany() batch. */
export const WORKER_MODEL_FLAGS = [THREADS, MAX_TOKENS, TRUNCATION, SPECIAL_TOKENS, CALIBRATION, VERIFY];

export interface WorkerCliOptions {
  model?: string;
  servers: string[];
  stream: string;
  subjects: string[];
  durable: string;
  outStream: string;
  outSubject: string;
  deadLetterSubject: string;
  input?: 'raw' | 'json';
  messageField?: string;
  ecs?: boolean;
  batchSize: number;
  maxDeliver: number;
  ackWait: number;
  maxAckPending: number;
  create: boolean;
  storage: 'file' | 'memory';
  replicas: number;
  creds?: string;
  /** From --token or LOGTRIAGE_NATS_TOKEN. */
  token?: string;
  tokenFile?: string;
  user?: string;
  /** From --password or LOGTRIAGE_NATS_PASSWORD. */
  password?: string;
  passwordFile?: string;
  tlsCa?: string;
  metricsPort?: number;
  metricsHost: string;
  /** Alert thresholds file (eval --thresholds-out). */
  thresholds?: string;
  quiet?: boolean;
  /** How a SIGHUP swap holds models: both for a moment (default), or pausing the consumer. */
  swapMode?: SwapMode;
  /** The model flags (WORKER_MODEL_FLAGS, review flags), read by openOptionsFrom. */
  [modelFlag: string]: unknown;
}


// Warnings quote the NATS client and the broker (subjects, server names): escaped for the terminal.
const say = (quiet: boolean | undefined, line: string) => {
  if (!quiet) process.stderr.write(`logtriage worker: ${escapeTerminal(line)}\n`);
};

export async function workerCommand(opts: WorkerCliOptions): Promise<void> {
  const token = secretFrom(opts.token, opts.tokenFile, 'token');
  const password = secretFrom(opts.password, opts.passwordFile, 'password');
  const options: WorkerOptions = {
    servers: opts.servers,
    stream: opts.stream,
    subjects: opts.subjects,
    durable: opts.durable,
    outStream: opts.outStream,
    outSubject: opts.outSubject,
    deadLetterSubject: opts.deadLetterSubject,
    input: opts.input ?? (opts.messageField !== undefined ? 'json' : 'raw'),
    messageField: opts.messageField ?? 'message',
    ecs: opts.ecs === true,
    batchSize: opts.batchSize,
    maxDeliver: opts.maxDeliver,
    ackWaitMs: opts.ackWait * 1000,
    maxAckPending: opts.maxAckPending,
    create: opts.create,
    storage: opts.storage,
    replicas: opts.replicas,
    ...(opts.creds !== undefined ? { creds: opts.creds } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(opts.user !== undefined ? { user: opts.user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(opts.tlsCa !== undefined ? { tlsCa: opts.tlsCa } : {}),
  };
  // Bad flags are a usage error before the model is loaded.
  parseOptions(workerOptionsSchema, options, 'worker options');
  const openOptions = openOptionsFrom(opts, WORKER_MODEL_FLAGS);
  // A bad thresholds file is checked against the GGUF header, before the model loads.
  const classifier = await openClassifier(opts.model, openOptions, opts.thresholds);
  // SIGHUP swaps to the --model file again (overlap: batches in flight finish on the old model;
  // pause: nothing is taken from the consumer while the old model drains and the new one loads).
  const slot = new ModelSlot(classifier, { open: (path) => openClassifier(path, openOptions, opts.thresholds), mode: opts.swapMode ?? 'overlap' });
  let worker: JetStreamWorker;
  try {
    // Warm before pulling: GET /ready (the metrics port) answers 200 only with a model that has classified a line.
    await classifier.classify(WARMUP_LINE);
    worker = await JetStreamWorker.start(slot, options, {
      onWarning: (message, err) => say(opts.quiet, redactUserinfo(`${message}${err instanceof Error ? `: ${err.message}` : ''}`)),
    });
  } catch (err) {
    await classifier.dispose();
    throw err;
  }
  const metricsServer =
    opts.metricsPort !== undefined
      ? await serveWorkerMetrics(worker.metrics, () => worker.healthy, opts.metricsPort, opts.metricsHost, () => worker.notReady)
      : undefined;
  const address = metricsServer?.address();
  const metricsUrl = address && typeof address === 'object' ? ` metrics http://${opts.metricsHost}:${address.port}/metrics` : '';
  say(opts.quiet, `ready: stream ${options.stream} consumer ${options.durable} -> ${options.outSubject} (dead letters: ${options.deadLetterSubject})${metricsUrl}`);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(opts.quiet, `second ${signal}: exiting without draining`);
      process.exit(1);
    }
    stopping = true;
    say(opts.quiet, `${signal}: draining (no new messages; finishing and acking the ones in hand)`);
    void worker.stop();
  };
  const onHangup = () => {
    if (stopping) return;
    const path = classifier.info.path;
    say(opts.quiet, `SIGHUP: swapping to ${path}`);
    slot.swap(path).then(
      (next) => say(opts.quiet, `model swapped: ${next.info.verification.model} (labels ${next.labels.join(', ')})`),
      (err: unknown) => say(opts.quiet, `model swap failed, the old model keeps serving: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHangup);
  try {
    await worker.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onHangup);
    metricsServer?.close();
    await slot.dispose();
  }
  say(opts.quiet, `stopped: ${await worker.metrics.linesOut.get().then((m) => m.values[0]?.value ?? 0)} results published`);
}
