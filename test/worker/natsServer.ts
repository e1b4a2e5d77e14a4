// SPDX-License-Identifier: MIT
// Debian's nats-server with JetStream, started by a test on a random loopback port with a
// temporary store; restartable on the same port and store (file storage survives).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_SERVER = process.env.NATS_SERVER ?? 'nats-server';

export interface NatsServer {
  url: string;
  port: number;
  /** The running server's process id. */
  readonly pid: number | undefined;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** Starts again on the same port and store. */
  restart(): Promise<void>;
  /** Stops and deletes the store. */
  dispose(): Promise<void>;
}

/** Servers still running; killed when the test process exits, so a timed-out test leaves none behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function launch(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(NATS_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  child.once('close', () => running.delete(child));
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start in 10 s: ${log}`)), 10_000);
    child.on('error', (err) => reject(new Error(`cannot run ${NATS_SERVER} (Debian package nats-server): ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${log}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const port = /Listening for client connections on [\d.]+:(\d+)/.exec(log)?.[1];
      if (port !== undefined && /Server is ready/.test(log)) {
        clearTimeout(timer);
        resolve({ child, port: Number(port) });
      }
    });
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // 'close' (stderr drained and the process gone) fires where 'exit' may already have.
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  await closed;
}

export async function startNatsServer(extraArgs: string[] = []): Promise<NatsServer> {
  const store = mkdtempSync(join(tmpdir(), 'logtriage-nats-'));
  const base = ['-js', '-a', '127.0.0.1', '-sd', store, ...extraArgs];
  let { child, port } = await launch([...base, '-p', '-1']);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid;
    },
    stop: () => terminate(child),
    async restart() {
      await terminate(child);
      ({ child } = await launch([...base, '-p', String(port)]));
    },
    async dispose() {
      await terminate(child);
      rmSync(store, { recursive: true, force: true });
    },
  };
}
