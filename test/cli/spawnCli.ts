// SPDX-License-Identifier: MIT
// Starts the CLI as a child process the test keeps hold of, for --follow (append, rotate, then
// SIGINT) and for runs on a pseudo-terminal through util-linux `script`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../fixtures/index.js';

export const cliEntry = join(repoRoot, 'test', 'cli', 'cliEntry.ts');

export interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Exit code once the child has ended, else undefined. */
  exitCode: () => number | null | undefined;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = process.env): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited, exitCode: () => exitCode };
}

/**
 * Polls until `condition` holds; fails with `what` if `cli` ends first or after `ms` (a guard
 * against hanging, not a timing check).
 */
export async function waitFor(cli: RunningCli, what: string, condition: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (cli.exitCode() !== undefined) throw new Error(`the CLI exited (${cli.exitCode()}) before ${what}: ${cli.stderr()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stderr: ${cli.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** util-linux `script`, which runs a command on a pseudo-terminal. */
export const hasScript = process.platform === 'linux' && spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout?.includes('util-linux');

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * Runs the CLI on a pseudo-terminal (stdin, stdout and stderr are a TTY unless `shellRedirect`
 * sends one elsewhere, e.g. `> out.jsonl`) and returns what the terminal showed.
 */
export function runOnTerminal(args: string[], options: { env?: NodeJS.ProcessEnv; shellRedirect?: string } = {}): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, '--import', 'tsx', cliEntry, ...args].map(quote).join(' ') + (options.shellRedirect ? ` ${options.shellRedirect}` : '');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: repoRoot, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let screen = '';
    child.stdout.on('data', (d) => (screen += d));
    child.stderr.on('data', (d) => (screen += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

/**
 * stderr without Node's process warnings (`(node:123) [CODE] Warning: …` and its `--trace-warnings`
 * hint): they come from Node or the library's environment checks, not from the CLI's own output.
 */
export function withoutNodeWarnings(stderr: string): string {
  return stderr
    .split(/(?<=\n)/)
    .filter((line) => !/^\(node:\d+\) /.test(line) && !/^\(Use `node --trace-warnings/.test(line))
    .join('');
}
