// SPDX-License-Identifier: MIT
// A 3-node JetStream cluster on loopback (R3 streams), two workers, and the input stream's
// leader node stopped mid-run: checks that every input still gets exactly one result. Too slow
// for CI on 2 cores (cluster formation and leader elections take seconds), so it is a script.
// Prints a JSON report; exits 1 when a result is missing or doubled.
//
//   npx tsx scripts/stress/jetstream-cluster.ts [--lines 1000] [--model m.gguf]

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { LogClassifier } from '../../src/index.js';
import { JetStreamWorker } from '../../src/worker/index.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const { values: args } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000' },
    model: { type: 'string', default: join(root, 'test-artifacts', 'models', 'qwen2-tiny-f32.gguf') },
  },
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

interface Node {
  name: string;
  client: number;
  route: number;
  child?: ChildProcess;
}

function startNode(node: Node, nodes: Node[], store: string): Promise<void> {
  const routes = nodes.filter((n) => n !== node).map((n) => `nats://127.0.0.1:${n.route}`).join(',');
  const child = spawn('nats-server', ['-js', '-n', node.name, '-a', '127.0.0.1', '-p', String(node.client), '-sd', join(store, node.name),
    '--cluster_name', 'logtriage', '--cluster', `nats://127.0.0.1:${node.route}`, '--routes', routes], { stdio: ['ignore', 'ignore', 'pipe'] });
  node.child = child;
  let log = '';
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${node.name} exited with ${code}: ${log.slice(-2000)}`)));
    child.stderr!.on('data', (c: Buffer) => {
      log += c.toString();
      if (/Server is ready/.test(log)) resolve();
    });
  });
}

async function stopNode(node: Node): Promise<void> {
  const closed = new Promise((r) => node.child!.once('close', r));
  node.child!.kill('SIGTERM');
  await closed;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const dir = join(root, '..', 'shared', 'data', 'loghub');
  const count = Number(args.lines);
  const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  const lines = files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split(/\r?\n/).filter((l) => l.trim()).slice(0, Math.ceil(count / files.length))).slice(0, count);
  const store = mkdtempSync(join(tmpdir(), 'logtriage-cluster-'));
  const nodes: Node[] = [];
  for (const name of ['n1', 'n2', 'n3']) nodes.push({ name, client: await freePort(), route: await freePort() });
  const servers = nodes.map((n) => `nats://127.0.0.1:${n.client}`);
  const started = performance.now();
  await Promise.all(nodes.map((n) => startNode(n, nodes, store)));
  const classifier = await LogClassifier.open(args.model, { threads: 1 });
  const nc = await connect({ servers, maxReconnectAttempts: -1 });
  const workers: JetStreamWorker[] = [];
  try {
    // The meta leader is elected a moment after the nodes are up: retry creating the streams.
    for (let attempt = 0; ; attempt++) {
      try {
        workers.push(await JetStreamWorker.start(classifier, { servers, replicas: 3, ackWaitMs: 3000, batchSize: 16 }));
        break;
      } catch (err) {
        if (attempt > 60) throw err;
        await sleep(500);
      }
    }
    workers.push(await JetStreamWorker.start(classifier, { servers, replicas: 3, ackWaitMs: 3000, batchSize: 16 }));
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const seqs: number[] = [];
    for (let i = 0; i < lines.length; i += 100) seqs.push(...(await Promise.all(lines.slice(i, i + 100).map((l) => js.publish('logs.raw.cluster', l)))).map((a) => a.seq));
    const outputs = async () => (await jsm.streams.info('LOGS_CLASSIFIED')).state.messages;
    while ((await outputs()) < lines.length / 3) await sleep(200);
    const leader = (await jsm.streams.info('LOGS')).cluster?.leader;
    const victim = nodes.find((n) => n.name === leader) ?? nodes[0]!;
    const atStop = await outputs();
    await stopNode(victim);
    const deadline = Date.now() + 300_000;
    let seen = 0;
    for (;;) {
      try {
        seen = await outputs();
      } catch {
        // leader election in progress
      }
      if (seen >= lines.length || Date.now() > deadline) break;
      await sleep(500);
    }
    await sleep(2000); // a doubled result would have arrived by now
    const final = await outputs();
    process.stderr.write(`results stored: ${final} of ${lines.length} (${atStop} before ${victim.name} stopped)\n`);
    // With a node down, the first API requests may time out while leaders move: retry.
    let consumer;
    for (let attempt = 0; ; attempt++) {
      try {
        consumer = await js.consumers.get('LOGS_CLASSIFIED', { filter_subjects: 'logs.classified' });
        break;
      } catch (err) {
        if (attempt > 20) throw err;
        await sleep(1000);
      }
    }
    const ids = new Set<string>();
    const messages = await consumer.consume({ max_messages: 1000 });
    for await (const m of messages) {
      ids.add(m.headers?.get('Nats-Msg-Id') ?? '');
      if (m.info.pending === 0) break;
    }
    await messages.close();
    const missing = seqs.filter((s) => !ids.has(`LOGS:${s}`)).length;
    const report = {
      lines: lines.length,
      stopped: { node: victim.name, wasStreamLeader: victim.name === leader, resultsBefore: atStop },
      results: final,
      distinctResults: ids.size,
      missing,
      doubled: final - ids.size,
      seconds: (performance.now() - started) / 1000,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return missing === 0 && final === lines.length ? 0 : 1;
  } finally {
    await Promise.all(workers.map((w) => w.stop().catch(() => {})));
    await nc.close();
    await classifier.dispose();
    for (const n of nodes) if (n.child && n.child.exitCode === null && n.child.signalCode === null) await stopNode(n);
    rmSync(store, { recursive: true, force: true });
  }
}

process.exitCode = await main();
