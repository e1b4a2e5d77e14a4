// SPDX-License-Identifier: MIT
// Opens a model (and classifies one line) in a child process, so a native crash fails the
// assertion instead of the test runner. Resolves with what the child reported and its exit.
import { join } from 'node:path';
import { repoRoot } from '../fixtures/index.js';
import { spawnNode } from './spawnNode.js';

export interface ChildOutcome {
  /** 'ok' when the model opened and classified, else the error's class name. */
  outcome: string;
  code: string | undefined;
  message: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

const script = `
import { LogClassifier } from ${JSON.stringify(join(repoRoot, 'src', 'index.ts'))};
// With -e, the extra arguments start at argv[1].
const [path, options] = [process.argv[1], JSON.parse(process.argv[2] ?? '{}')];
try {
  const clf = await LogClassifier.open(path, options);
  await clf.classify('Jan 12 06:25:43 web01 sshd[2314]: Accepted publickey for deploy');
  await clf.dispose();
  console.log(JSON.stringify({ outcome: 'ok', message: '' }));
} catch (err) {
  console.log(JSON.stringify({ outcome: err.name, code: err.code, message: err.message }));
}
`;

export async function openInChild(path: string, options: object = {}, timeoutMs = 60_000): Promise<ChildOutcome> {
  const run = await spawnNode(['--input-type=module', '-e', script, path, JSON.stringify(options)], { timeoutMs });
  const last = run.stdout.trim().split('\n').pop() ?? '';
  let parsed: { outcome?: string; code?: string; message?: string } = {};
  try {
    parsed = JSON.parse(last);
  } catch {
    parsed = { outcome: 'no-report' };
  }
  return { outcome: parsed.outcome ?? 'no-report', code: parsed.code, message: parsed.message ?? '', exitCode: run.code, signal: run.signal, stderr: run.stderr };
}
