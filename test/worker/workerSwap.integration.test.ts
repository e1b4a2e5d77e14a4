// SPDX-License-Identifier: MIT
// `logtriage worker` swaps its model on SIGHUP mid-stream (a real nats-server): the --model file
// is replaced by one with another head, every input still has exactly one result, and each result
// names (record and Logtriage-Model header) the model whose labels it carries.
import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGgufHeader, validateLogtriageModel } from '../../src/gguf/index.js';
import { copyGguf } from '../../src/gguf/copyGguf.js';
import { tinyModel } from '../fixtures/index.js';
import { waitFor } from '../server/helpers.js';
import { startNatsServer } from './natsServer.js';
import { readStream } from './readStream.js';
import { spawnWorker } from './spawnWorker.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logtriage-worker-swap-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Labels by digest name (12 hex characters), read from the file's header. */
async function describeModel(path: string): Promise<[string, string[]]> {
  const meta = validateLogtriageModel(await readGgufHeader(path));
  return [meta.digest!.id.slice(0, 12), meta.labels];
}

describe('logtriage worker on SIGHUP', () => {
  it('swaps mid-stream: every input one result, each stamped with the model that produced it', async () => {
    const served = join(dir, 'served.gguf');
    const other = join(dir, 'other.gguf');
    await copyFile(tinyModel('q8_0'), served);
    await copyGguf(served, other, {
      editMetadata: (m) => {
        const labels = m.get('qwen2.classifier.output_labels')!;
        m.set('qwen2.classifier.output_labels', { ...labels, value: (labels.value as string[]).map((l) => `B${l}`) } as typeof labels);
      },
    });
    const labelsOf = new Map([await describeModel(served), await describeModel(other)]);
    expect(labelsOf.size).toBe(2);

    const server = await startNatsServer();
    const nc = await connect({ servers: server.url });
    const worker = await spawnWorker(['--servers', server.url, '--model', served, '--threads', '1', '--batch-size', '4'], { LOGTRIAGE_CACHE_DIR: join(dir, 'cache') });
    try {
      const js = jetstream(nc);
      const seqs: number[] = [];
      const publish = async (n: number) => {
        for (let i = 0; i < n; i++) seqs.push((await js.publish('logs.raw.test', `sshd[${seqs.length}]: Failed password for root from 203.0.113.${seqs.length % 250}`)).seq);
      };
      await publish(30);
      await rename(other, served); // the new file at --model, then SIGHUP while the stream is being worked
      worker.child.kill('SIGHUP');
      await publish(30);
      await waitFor(async () => /model swapped/.test(worker.stderr()), 'the swap', 120_000);
      await publish(20);
      const jsm = await jetstreamManager(nc);
      await waitFor(async () => (await jsm.streams.info('LOGS_CLASSIFIED')).state.messages >= seqs.length, 'a result per input', 120_000);
      await waitFor(async () => (await jsm.consumers.info('LOGS', 'logtriage')).num_ack_pending === 0, 'every input acked', 30_000);
      const results = await readStream(nc, 'LOGS_CLASSIFIED', 'logs.classified');
      expect(results.map((r) => r.id).sort()).toEqual(seqs.map((s) => `LOGS:${s}`).sort());
      const seen = new Set<string>();
      for (const r of results) {
        const model = r.body.logtriage.model as string;
        expect(r.headers['Logtriage-Model']).toBe(model);
        expect(labelsOf.get(model)).toContain(r.body.logtriage.label);
        seen.add(model);
      }
      expect(seen.size).toBe(2);
      expect(worker.stderr()).not.toMatch(/swap failed/);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await nc.close();
      await server.dispose();
    }
  }, 300_000);
});
