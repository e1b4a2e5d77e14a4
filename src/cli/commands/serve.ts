// SPDX-License-Identifier: MIT
// `logtriage serve [--model m.gguf | owner/name]`: one model behind the HTTP server until SIGTERM or SIGINT,
// which stop accepting connections, let the requests in flight finish, and exit 0. A second
// signal exits at once with 1.
import { InvalidArgumentError } from 'commander';
import { ValidationError } from '../../errors.js';
import { readSecretFile } from '../readSecretFile.js';
import { LogClassifier } from '../../LogClassifier.js';
import { readThresholdsForModel } from '../../calibration/readThresholdsForModel.js';
import type { OpenOptions } from '../../options.js';
import { createServer } from '../../server/index.js';
import { FORWARD_FORMATS, type ForwardFormat } from '../../server/forwardRecords.js';
import { LOG_LEVELS } from '../../server/serverOptions.js';

export { FORWARD_FORMATS, LOG_LEVELS };

/** The flags of `logtriage serve`; undefined ones take serverOptionsSchema's defaults. */
export interface ServeCliOptions {
  /** GGUF path or pulled hub repo id; undefined: the pulled default model. */
  model?: string;
  host: string;
  port: number;
  /** From the model flags (modelFlags.ts SERVE_FLAGS); its `truncation` is also the server's truncationDirection. */
  open: OpenOptions;
  maxConcurrentRequests?: number;
  maxClientBatchSize?: number;
  payloadLimit?: number;
  autoTruncate: boolean;
  apiKey?: string;
  messageField?: string;
  ecs?: boolean;
  modelId?: string;
  /** Seconds. */
  requestTimeout?: number;
  /** Seconds. */
  writeTimeout?: number;
  maxIngestRecords?: number;
  logLevel: (typeof LOG_LEVELS)[number];
  logBodies?: boolean;
  forward?: string;
  forwardFormat?: ForwardFormat;
  forwardTimeout?: number;
  forwardHeader?: Record<string, string>;
  /** Headers from a file (`Name: value` per line), merged under --forward-header. */
  forwardHeaderFile?: string;
  /** Alert thresholds file (eval --thresholds-out). */
  thresholds?: string;
}

/** Adds one `Name: value` header to the ones collected so far (a repeatable flag). */
export function collectHeader(value: string, previous: Record<string, string>): Record<string, string> {
  const colon = value.indexOf(':');
  // The value may be a secret (an Authorization header): the message does not quote it.
  if (colon < 1) throw new InvalidArgumentError(`expected 'Name: value', got ${value.length} characters without a name before a colon`);
  return { ...previous, [value.slice(0, colon).trim()]: value.slice(colon + 1).trim() };
}

/** The headers of a --forward-header-file: one `Name: value` per line; blank lines and `#` comments are skipped. */
export function readHeaderFile(path: string): Record<string, string> {
  let headers: Record<string, string> = {};
  readSecretFile(path, '--forward-header-file')
    .split(/\r?\n/u)
    .forEach((line, i) => {
      if (/^\s*(#|$)/u.test(line)) return;
      try {
        headers = collectHeader(line, headers);
      } catch (err) {
        throw new ValidationError(`--forward-header-file ${path}, line ${i + 1}: ${(err as Error).message}`);
      }
    });
  return headers;
}

/** A TCP port; 0 picks a free one. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got '${value}'`);
  return n;
}

export async function serveCommand(opts: ServeCliOptions): Promise<void> {
  // Read before the model loads: a bad file is a usage error at once.
  const forwardHeaders = opts.forwardHeaderFile === undefined ? opts.forwardHeader : { ...readHeaderFile(opts.forwardHeaderFile), ...opts.forwardHeader };
  const thresholds = opts.thresholds === undefined ? undefined : await readThresholdsForModel(opts.thresholds, opts.model, opts.open.calibration);
  const classifier = await LogClassifier.open(opts.model, opts.open);
  let app;
  try {
    // The schema's defaults fill whatever is undefined here.
    app = createServer(classifier, {
      ...(thresholds ? { alertThresholds: Object.fromEntries(thresholds) } : {}),
      maxConcurrentRequests: opts.maxConcurrentRequests,
      maxClientBatchSize: opts.maxClientBatchSize,
      payloadLimit: opts.payloadLimit,
      autoTruncate: opts.autoTruncate,
      truncationDirection: opts.open.truncation === 'error' ? undefined : opts.open.truncation,
      messageField: opts.messageField,
      ecs: Boolean(opts.ecs),
      requestTimeoutMs: opts.requestTimeout === undefined ? undefined : opts.requestTimeout * 1000,
      writeTimeoutMs: opts.writeTimeout === undefined ? undefined : opts.writeTimeout * 1000,
      maxIngestRecords: opts.maxIngestRecords,
      logLevel: opts.logLevel,
      logBodies: Boolean(opts.logBodies),
      apiKey: opts.apiKey,
      modelId: opts.modelId,
      forwardUrl: opts.forward,
      forwardFormat: opts.forwardFormat,
      forwardTimeoutMs: opts.forwardTimeout === undefined ? undefined : opts.forwardTimeout * 1000,
      forwardHeaders,
    });
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await app?.close();
    await classifier.dispose();
    throw err;
  }
  const server = app;
  server.log.info({ model: classifier.info.path, labels: classifier.labels, auth: Boolean(opts.apiKey) }, 'logtriage serve ready');

  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        server.log.warn({ signal }, 'second signal: exiting without draining');
        process.exit(1);
      }
      stopping = true;
      server.log.info({ signal }, 'draining: no new connections, finishing requests in flight');
      server
        .close()
        .then(() => classifier.dispose())
        .finally(() => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
        })
        .then(() => {
          server.log.info('stopped');
          resolve();
        }, reject);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
