// SPDX-License-Identifier: MIT
// Reads every message of a stream subject (an ephemeral ordered consumer), for assertions.
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export interface StoredResult {
  /** Nats-Msg-Id: `<input stream>:<input sequence>`. */
  id: string;
  subject: string;
  body: any;
  headers: Record<string, string>;
}

/** Every message stored in `stream` on `subject`, in stream order. */
export async function readStream(nc: NatsConnection, stream: string, subject: string): Promise<StoredResult[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, { filter_subjects: subject });
  const info = await consumer.info();
  const total = info.num_pending;
  const out: StoredResult[] = [];
  if (total === 0) return out;
  const messages = await consumer.consume({ max_messages: 1000 });
  for await (const m of messages as AsyncIterable<JsMsg>) {
    const headers: Record<string, string> = {};
    for (const [k, v] of m.headers ?? []) headers[k] = v.join(',');
    out.push({ id: m.headers?.get('Nats-Msg-Id') ?? '', subject: m.subject, body: JSON.parse(m.string()), headers });
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}
