// SPDX-License-Identifier: MIT
// `logtriage worker <args>` in a child process (so a test can kill -9 it), resolved once ready.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../fixtures/index.js';

export interface WorkerChild {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  /** http://host:port/metrics when started with --metrics-port. */
  metricsUrl: string | undefined;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const cliEntry = `import { main } from ${JSON.stringify(join(repoRoot, 'src', 'cli', 'main.ts'))};
process.exitCode = await main(['node', 'logtriage', ...process.argv.slice(1)]);`;

/** Workers still running; killed when the test process exits, so a timed-out test leaves none behind. */
const running = new Set<ChildProcessWithoutNullStreams>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function spawnWorker(args: string[], env: Record<string, string> = {}): Promise<WorkerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', cliEntry, 'worker', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const ready = /logtriage worker: ready.*?(?: metrics (http:\S+))?\n/.exec(stderr);
      if (ready) resolve({ child, stderr: () => stderr, metricsUrl: ready[1], exited });
    });
    void exited.then(({ code }) => reject(new Error(`worker exited with ${code} before ready: ${stderr}`)));
  });
}
