// SPDX-License-Identifier: MIT
// Test helpers for the server: start one in-process on a free loopback port, call it over real
// HTTP, and run the CLI `serve` in a child process.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { LogClassifier } from '../../src/index.js';
import { createServer, type ServerOptions } from '../../src/server/index.js';
import { loghubFiles, repoRoot, splitLogLines } from '../fixtures/index.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  port: number;
}

export async function startServer(classifier: LogClassifier, options: ServerOptions = {}): Promise<RunningServer> {
  const app = createServer(classifier, options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return { app, url: `http://127.0.0.1:${address.port}`, port: address.port };
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** POSTs `body` (JSON-encoded unless a string or Buffer) and reads the answer. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await fetch(url, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...headers } });
  return read(res);
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return read(await fetch(url, { headers }));
}

async function read(res: Response): Promise<JsonResponse> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** `count` real log lines, a few from each loghub system. */
export function sampleLines(count: number): string[] {
  const files = loghubFiles();
  const perFile = Math.ceil(count / files.length);
  return files
    .flatMap((f) => splitLogLines(readFileSync(f, 'utf8')).filter((l) => l.trim().length > 0).slice(200, 200 + perFile))
    .slice(0, count);
}

/** Reads a metric's value (no labels, or the given label set) from Prometheus text. */
export function metricValue(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

export interface ServeChild {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Every pino record written so far. */
  logs: () => Array<Record<string, any>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const cliEntry = `import { main } from ${JSON.stringify(join(repoRoot, 'src', 'cli', 'main.ts'))};
process.exitCode = await main(['node', 'logtriage', ...process.argv.slice(1)]);`;

/** Runs `logtriage serve <args> --port 0` and resolves once it listens. */
export function spawnServe(args: string[], env: Record<string, string> = {}): Promise<ServeChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', cliEntry, 'serve', ...args, '--port', '0'], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  const records: Array<Record<string, any>> = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      let newline: number;
      while ((newline = stderr.indexOf('\n')) >= 0) {
        const line = stderr.slice(0, newline);
        stderr = stderr.slice(newline + 1);
        try {
          records.push(JSON.parse(line));
        } catch {
          records.push({ msg: line });
        }
        const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(records.at(-1)!.msg ?? '');
        if (listening) resolve({ child, url: listening[1]!, logs: () => records, exited });
      }
    });
    void exited.then(({ code }) => reject(new Error(`serve exited with ${code} before listening: ${JSON.stringify(records)}`)));
  });
}

/** Waits until `predicate` holds, checking every 20 ms; fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
