// SPDX-License-Identifier: MIT
// Builds the fastify app around one open LogClassifier: limits, auth, gzip bodies, TEI error
// bodies, request logs and draining. The caller listens and closes; close() stops accepting,
// lets requests in flight finish, and leaves the classifier open (the caller disposes it).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { packageRoot } from '../engine/binding.js';
import { LogClassifier } from '../LogClassifier.js';
import { ModelSlot, WARMUP_LINE } from '../ModelSlot.js';
import { parseOptions } from '../options.js';
import { ERROR_STATUS, HttpError, RETRY_AFTER_SECONDS, toHttpError } from './errors.js';
import { MODEL_HEADER } from './ClassifyGate.js';
import { createMetrics } from './metrics.js';
import { registerRoutes } from './routes.js';
import { serverOptionsSchema, type ServerOptions } from './serverOptions.js';

/** How often Node checks sockets against requestTimeout (its default, 30 s, lets a slow client linger that long past it). */
const TIMEOUT_CHECK_MS = 1000;

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * A fastify app serving `model` over HTTP (TEI-compatible /predict, /v1/classify, /ingest,
 * /health, /ready, /info, /metrics, POST /admin/model). Call `listen()` on it; `close()` drains.
 * Given a ModelSlot, the model can be swapped (slot.swap(), or POST /admin/model with an API key);
 * given a LogClassifier, swaps reopen files with open()'s defaults.
 */
export function createServer(model: LogClassifier | ModelSlot, serverOptions: ServerOptions = {}): FastifyInstance {
  const options = parseOptions(serverOptionsSchema, serverOptions, 'createServer() options');
  const slot = model instanceof ModelSlot ? model : new ModelSlot(model, { open: (path) => LogClassifier.open(path) });
  const classifier = slot.current;

  const app = Fastify({
    bodyLimit: options.payloadLimit,
    requestTimeout: options.requestTimeoutMs,
    http: { headersTimeout: Math.min(options.requestTimeoutMs, 60_000), connectionsCheckingInterval: TIMEOUT_CHECK_MS },
    // Draining is answered below, with a TEI body and the socket closed after the answer.
    return503OnClosing: false,
    logger: options.logLevel === 'silent' ? false : { level: options.logLevel, stream: options.logStream ?? process.stderr },
  });
  // JSON only, except /ingest (which adds NDJSON in its own scope): anything else is a 415.
  app.removeContentTypeParser('text/plain');

  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });

  app.addHook('onRequest', async (request, reply) => {
    if (draining) {
      reply.header('connection', 'close');
      throw new HttpError('unhealthy', 'the server is shutting down');
    }
  });

  if (options.apiKey !== undefined) {
    const expected = sha256(options.apiKey);
    app.addHook('onRequest', async (request, reply) => {
      // Probes carry no credentials: liveness and readiness say nothing about the data.
      if (request.routeOptions.url === '/health' || request.routeOptions.url === '/ready') return;
      const token = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      // Digests have equal lengths, so the comparison takes the same time whatever was sent.
      if (!timingSafeEqual(sha256(token), expected)) {
        reply.header('www-authenticate', 'Bearer');
        throw new HttpError('unauthorized', 'Missing or wrong API key: send Authorization: Bearer <key>');
      }
    });
  }

  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding === 'identity') return payload;
    if (encoding !== 'gzip' && encoding !== 'x-gzip') {
      throw new HttpError('unsupported_media_type', `Content-Encoding '${encoding.slice(0, 40)}' is not supported; send gzip or identity`);
    }
    let encodedBytes = 0;
    payload.on('data', (chunk: Buffer) => {
      encodedBytes += chunk.length;
    });
    const gunzip = pipeline(payload, createGunzip(), () => {});
    // fastify checks Content-Length against this and the payload limit against the decoded bytes.
    Object.defineProperty(gunzip, 'receivedEncodedLength', { get: () => encodedBytes });
    return gunzip;
  });

  if (options.logBodies) {
    app.addHook('preHandler', async (request) => {
      if (request.body !== undefined) request.log.info({ body: request.body }, 'request body');
    });
  }

  app.addHook('onSend', async (_request, reply) => {
    // Every answer names the model (errors and status routes too): set by the gate from the results, else the loaded one.
    if (!reply.hasHeader(MODEL_HEADER)) reply.header(MODEL_HEADER, slot.current.info.verification.model);
    // A keep-alive socket would otherwise hold close() open after its last answer.
    if (draining) reply.header('connection', 'close');
    // The answer is ready: a client that does not read it within writeTimeoutMs loses its socket.
    const socket = reply.raw.socket;
    if (socket === null) return;
    const timer = setTimeout(() => socket.destroy(), options.writeTimeoutMs);
    timer.unref();
    reply.raw.once('close', () => clearTimeout(timer));
    reply.raw.once('finish', () => clearTimeout(timer));
  });

  const metrics = createMetrics(classifier, slot);
  if (!(model instanceof ModelSlot)) {
    // The caller disposes the classifier it gave; one swapped in through POST /admin/model is ours.
    app.addHook('onClose', async () => {
      if (slot.current !== model) await slot.dispose();
    });
  }
  app.addHook('onClose', async () => metrics.dispose());
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler(async (err, request, reply) => {
    const httpError = toHttpError(err);
    if (httpError.kind === 'internal') request.log.error({ err }, 'internal error');
    else request.log.info({ kind: httpError.kind, message: httpError.message }, 'request refused');
    if (httpError.status === 429 || httpError.status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return reply.code(httpError.status).send(httpError.body());
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]!.slice(0, 200);
    return reply.code(ERROR_STATUS.not_found).send(new HttpError('not_found', `No route ${request.method} ${path}`).body());
  });

  // Ready (GET /ready) once the model has classified a line: the first request then finds the
  // weights paged in and the graph built. Not awaited: /ready answers 503 meanwhile.
  let warm: 'warming' | 'warm' | Error = 'warming';
  classifier.classify(WARMUP_LINE).then(
    () => (warm = 'warm'),
    (err: unknown) => {
      warm = err instanceof Error ? err : new Error(String(err));
      app.log.error({ err }, 'the warm-up line failed: /ready stays 503');
    },
  );
  registerRoutes(app, {
    slot,
    get classifier() {
      return slot.current;
    },
    notReady: () => {
      if (draining) return 'the server is shutting down';
      if (slot.swapReason !== undefined) return slot.swapReason;
      if (warm === 'warming') return 'the model is warming up';
      if (warm instanceof Error) return `the warm-up line failed: ${warm.message}`;
      return undefined;
    },
    options,
    metrics,
    modelId: options.modelId ?? basename(classifier.info.path).replace(/\.gguf$/i, ''),
    version: packageVersion(),
    isDraining: () => draining,
  });
  return app;
}
