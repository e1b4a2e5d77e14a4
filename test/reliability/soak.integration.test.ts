// SPDX-License-Identifier: MIT
// The CI-sized soak: scripts/stress/soak.ts on 10,000 lines (shortened to 48 characters to fit the CI
// budget; `npm run soak` runs 100,000 full lines). Resident memory must stop growing after
// warm-up, and no handle or native model may be left behind.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/index.js';

interface SoakReport {
  lines: number;
  rss: { earlyMiB: number; lateMiB: number; growth: number; samplesMiB: number[] };
  handles: { warm: Record<string, number>; end: Record<string, number> };
  liveModels: { whileOpen: number; afterDispose: number };
  failures: string[];
}

function soak(args: string[]): Promise<{ report: SoakReport | undefined; exitCode: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(repoRoot, 'scripts', 'stress', 'soak.ts'), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      let report: SoakReport | undefined;
      try {
        report = JSON.parse(stdout) as SoakReport;
      } catch {
        report = undefined;
      }
      resolve({ report, exitCode, stderr });
    });
  });
}

describe('scripts/stress/soak.ts', () => {
  it('10,000 classifications: RSS flat after warm-up (< 5%), no handle growth, no model left behind', async () => {
    const { report, exitCode, stderr } = await soak(['--lines', '10000', '--max-chars', '48']);
    expect(report, stderr).toBeDefined();
    expect(report!.failures).toEqual([]);
    expect(exitCode, stderr).toBe(0);
    expect(report!.lines).toBe(10_000);
    expect(report!.rss.samplesMiB).toHaveLength(20);
    expect(report!.rss.growth).toBeLessThan(0.05);
    expect(report!.handles.end).toEqual(report!.handles.warm);
    expect(report!.liveModels).toEqual({ whileOpen: 1, afterDispose: 0 });
  }, 300_000);
});
