// SPDX-License-Identifier: MIT
// Runs the `logtriage` CLI from source in a child process.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../fixtures/index.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const entry = `import { main } from ${JSON.stringify(join(repoRoot, 'src', 'cli', 'main.ts'))};
process.exitCode = await main(['node', 'logtriage', ...process.argv.slice(1)]);`;

export function runCli(args: string[], stdin?: Buffer | string, timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry, ...args], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}
