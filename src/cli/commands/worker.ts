// SPDX-License-Identifier: MIT
// `logtriage worker`: one classifier worker on a NATS JetStream stream until SIGTERM or SIGINT,
// which stop pulling, finish and ack the messages in hand, and exit 0. A second signal exits
// at once with 1. Flags are declared here (registerWorkerCommand) so main.ts only hooks it in.
import { Command, Option } from 'commander';
import { readThresholdsForModel } from '../../calibration/readThresholdsForModel.js';
import { LogClassifier } from '../../LogClassifier.js';
import { parseOptions } from '../../options.js';
import { JetStreamWorker, serveWorkerMetrics, type WorkerOptions } from '../../worker/index.js';
import { workerOptionsSchema } from '../../worker/workerOptions.js';
import { addModelFlags, addReviewFlags, addTemplateTierFlag, CALIBRATION, MAX_TOKENS, modelOption, openOptionsFrom, positiveInt, SPECIAL_TOKENS, THREADS, TRUNCATION } from '../modelFlags.js';
import { parsePort } from './serve.js';
import { secretFrom } from '../readSecretFile.js';
import { redactUserinfo } from '../../redactUserinfo.js';
import { escapeTerminal } from '../output/escapeTerminal.js';

/** The engine flags of classify but --batch-size, which here counts messages per classifyMany() batch. */
const WORKER_MODEL_FLAGS = [THREADS, MAX_TOKENS, TRUNCATION, SPECIAL_TOKENS, CALIBRATION];

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
  /** The model flags (WORKER_MODEL_FLAGS, review flags), read by openOptionsFrom. */
  [modelFlag: string]: unknown;
}

const list = (value: string) => value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

// Warnings quote the NATS client and the broker (subjects, server names): escaped for the terminal.
const say = (quiet: boolean | undefined, line: string) => {
  if (!quiet) process.stderr.write(`logtriage worker: ${escapeTerminal(line)}\n`);
};

export function registerWorkerCommand(program: Command): void {
  const command = program
    .command('worker')
    .description('Classify a NATS JetStream stream: workers sharing one durable consumer publish results (exactly once) to an output stream')
    .addOption(modelOption())
    .option('--servers <urls>', 'comma-separated NATS server URLs', list, ['nats://127.0.0.1:4222'])
    .option('--stream <name>', 'input stream', 'LOGS')
    .option('--subjects <filters>', 'subjects the input stream captures when created (comma-separated)', list, ['logs.raw.>'])
    .option('--durable <name>', 'durable pull consumer, shared by workers of the same name', 'logtriage')
    .option('--out-stream <name>', 'output stream (results and dead letters)', 'LOGS_CLASSIFIED')
    .option('--out-subject <subject>', 'subject of the results', 'logs.classified')
    .option('--dead-letter-subject <subject>', 'subject of messages that cannot be classified', 'logs.dead')
    .addOption(new Option('--input <kind>', "'raw' log lines, or 'json' records (a Fluent Bit nats array: one per entry) (default: json when --message-field is given)").choices(['raw', 'json']))
    .option('--message-field <path>', 'record field to classify (dotted path for nested fields); raw lines go out under it (default: message)')
    .option('--ecs', 'results carry ECS fields (event.kind, event.category, event.type, event.risk_score) instead of `logtriage`')
    .option('--batch-size <n>', 'most messages per classifyMany() batch', positiveInt, 64)
    .option('--max-deliver <n>', 'tries per message before it is dead-lettered', positiveInt, 5)
    .option('--ack-wait <s>', 'seconds before an unacked message is redelivered (consumer ack_wait, when created)', positiveInt, 30)
    .option('--max-ack-pending <n>', 'messages out and unacked across all workers (consumer max_ack_pending, when created)', positiveInt, 1024)
    .option('--no-create', 'require the streams and the consumer to exist instead of creating them')
    .addOption(new Option('--storage <kind>', 'storage of created streams').choices(['file', 'memory']).default('file'))
    .option('--replicas <n>', 'replicas of created streams (3 on a 3-node cluster)', positiveInt, 1)
    .option('--creds <file>', 'NATS credentials file (JWT + NKey)')
    .addOption(new Option('--token <token>', 'NATS authentication token (visible to local users: prefer the env or --token-file)').env('LOGTRIAGE_NATS_TOKEN'))
    .option('--token-file <file>', 'file holding the NATS token')
    .option('--user <user>', 'NATS user (with --password)')
    .addOption(new Option('--password <password>', 'NATS password (visible to local users: prefer the env or --password-file)').env('LOGTRIAGE_NATS_PASSWORD'))
    .option('--password-file <file>', 'file holding the NATS password')
    .option('--tls-ca <file>', 'CA certificate (PEM) of the servers')
    .option('--metrics-port <n>', 'serve /metrics and /health on this port (0: any free one)', parsePort)
    .option('--metrics-host <host>', 'address of the metrics endpoint', '127.0.0.1')
    .option('--thresholds <file>', 'alert thresholds from eval --thresholds-out: results get alert (with --ecs, event.kind alert)')
    .option('-q, --quiet', 'no messages on stderr');
  addTemplateTierFlag(addReviewFlags(addModelFlags(command, WORKER_MODEL_FLAGS)))
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        "  $ logtriage worker --servers nats://127.0.0.1:4222 --stream LOGS --subjects 'logs.raw.>' --model models/logs-q8_0.gguf",
        '  $ logtriage worker --message-field log --ecs --metrics-port 9464 --creds /etc/nats/worker.creds',
        '  $ logtriage worker --thresholds alerts.json --review-min-score 0.6 --ecs --model models/logs-q8_0.gguf',
      ].join('\n'),
    )
    .action(async (opts: WorkerCliOptions) => {
      await workerCommand(opts);
    });
}

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
  const thresholds = opts.thresholds === undefined ? undefined : await readThresholdsForModel(opts.thresholds, opts.model, openOptions.calibration);
  if (thresholds) options.alertThresholds = Object.fromEntries(thresholds);
  const classifier = await LogClassifier.open(opts.model, openOptions);
  let worker: JetStreamWorker;
  try {
    worker = await JetStreamWorker.start(classifier, options, {
      onWarning: (message, err) => say(opts.quiet, redactUserinfo(`${message}${err instanceof Error ? `: ${err.message}` : ''}`)),
    });
  } catch (err) {
    await classifier.dispose();
    throw err;
  }
  const metricsServer =
    opts.metricsPort !== undefined ? await serveWorkerMetrics(worker.metrics, () => worker.healthy, opts.metricsPort, opts.metricsHost) : undefined;
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
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await worker.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    metricsServer?.close();
    await classifier.dispose();
  }
  say(opts.quiet, `stopped: ${await worker.metrics.linesOut.get().then((m) => m.values[0]?.value ?? 0)} results published`);
}
