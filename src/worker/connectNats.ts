// SPDX-License-Identifier: MIT
// A NATS connection from the worker's options: the client's own reconnect logic (forever), and
// one authentication method (creds file, token, or user + password), TLS with a custom CA.
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { BrokerError } from '../errors.js';
import { redactUserinfo } from '../redactUserinfo.js';
import type { ResolvedWorkerOptions } from './workerOptions.js';

export async function connectNats(options: ResolvedWorkerOptions): Promise<NatsConnection> {
  const connection: NodeConnectionOptions = {
    servers: options.servers,
    name: options.name,
    // Reconnect forever: a broker restart or a node failover must not end the worker.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // The client otherwise builds an Error (a stack capture) per request for its context, and the
    // worker makes one request per result (the publish awaiting its PubAck): on the tiny model that
    // was the worker's largest per-message cost on the main thread (scripts/bench/worker.ts).
    noAsyncTraces: true,
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.user !== undefined ? { user: options.user, pass: options.password } : {}),
    ...(options.creds !== undefined ? { authenticator: credsAuthenticator(readFileSync(options.creds)) } : {}),
    ...(options.tlsCa !== undefined ? { tls: { caFile: options.tlsCa } } : {}),
  };
  try {
    return await connect(connection);
  } catch (err) {
    // A server URL may carry user:password; neither the list nor the client's message shows it.
    throw new BrokerError(redactUserinfo(`cannot connect to NATS at ${options.servers.join(', ')}: ${(err as Error).message}`));
  }
}
