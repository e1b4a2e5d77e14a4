// SPDX-License-Identifier: MIT
// Opens many model files in as few child processes as possible. A child that dies (signal,
// non-zero exit, no report) is charged to the file it had started, and a fresh child carries on
// with the next file; a file that makes no progress for `stallMs` is a hang and is killed.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../fixtures/index.js';

export interface ModelOutcome {
  path: string;
  /** 'ok', a LogTriageError class name, 'untyped <name>', 'crash' or 'hang'. */
  outcome: string;
  /** For 'ok': every logit was finite. */
  finite?: boolean;
  message: string;
}

const childScript = join(repoRoot, 'test', 'reliability', 'helpers', 'openModelsChild.ts');

function runChild(listPath: string, start: number, stallMs: number, onLine: (line: { i: number; phase: string } & Partial<ModelOutcome>) => void) {
  return new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stderr: string; stalled: boolean }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, listPath, String(start)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stalled = false;
    let watchdog = setTimeout(stall, stallMs);
    function stall() {
      stalled = true;
      child.kill('SIGKILL');
    }
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      let nl: number;
      while ((nl = stdout.indexOf('\n')) >= 0) {
        const line = stdout.slice(0, nl);
        stdout = stdout.slice(nl + 1);
        clearTimeout(watchdog);
        watchdog = setTimeout(stall, stallMs);
        onLine(JSON.parse(line));
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(watchdog);
      resolve({ exitCode, signal, stderr, stalled });
    });
  });
}

export async function openModelsInChildren(paths: readonly string[], workDir: string, stallMs = 60_000): Promise<ModelOutcome[]> {
  const listPath = join(workDir, 'models.json');
  writeFileSync(listPath, JSON.stringify(paths));
  const outcomes: Array<ModelOutcome | undefined> = new Array(paths.length);
  let next = 0;
  while (next < paths.length) {
    let started = -1;
    const exit = await runChild(listPath, next, stallMs, (line) => {
      if (line.phase === 'start') started = line.i;
      else outcomes[line.i] = { path: paths[line.i]!, outcome: line.outcome!, finite: line.finite, message: line.message ?? '' };
    });
    if (started === -1) throw new Error(`model child failed before its first model (exit ${exit.exitCode}, signal ${exit.signal}): ${exit.stderr}`);
    // A death after a model's report (a finalizer, teardown) is still charged to that model.
    if (exit.stalled || exit.signal !== null || exit.exitCode !== 0) {
      const detail = exit.stalled ? `no progress for ${stallMs} ms` : `exit ${exit.exitCode}, signal ${exit.signal}`;
      const reported = outcomes[started];
      const after = reported ? ` after reporting ${reported.outcome}` : '';
      outcomes[started] = { path: paths[started]!, outcome: exit.stalled ? 'hang' : 'crash', message: `${detail}${after}: ${exit.stderr.slice(-1500)}` };
    }
    next = started + 1;
  }
  return outcomes.map((o, i) => o ?? { path: paths[i]!, outcome: 'no-report', message: '' });
}
