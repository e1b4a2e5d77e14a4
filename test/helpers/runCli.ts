// SPDX-License-Identifier: MIT
// Runs the `logtriage` CLI from source in a child process.
import { join } from 'node:path';
import { repoRoot } from '../fixtures/index.js';
import { spawnNode } from './spawnNode.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const entry = `import { main } from ${JSON.stringify(join(repoRoot, 'src', 'cli', 'main.ts'))};
process.exitCode = await main(['node', 'logtriage', ...process.argv.slice(1)]);`;

export async function runCli(args: string[], stdin?: Buffer | string, timeoutMs = 120_000, env?: NodeJS.ProcessEnv): Promise<CliRun> {
  const { code, stdout, stderr } = await spawnNode(['--input-type=module', '-e', entry, ...args], { ...(stdin !== undefined ? { stdin } : {}), timeoutMs, ...(env ? { env } : {}) });
  return { code, stdout, stderr };
}
