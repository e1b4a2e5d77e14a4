// SPDX-License-Identifier: MIT
// verifyModel()'s throughput against `sha256sum` on the same file, side by side: the file is read
// once to warm the page cache, then each round runs sha256sum, `openssl dgst -sha256` (OpenSSL's
// SHA-NI code, the fastest single-stream reference; skipped when absent) and verifyModel back to
// back, so all see the same machine load. Reports the median MB/s of each and the ratios (target:
// verify ≥ 0.8 × sha256sum).
// Without a model argument it converts the random Qwen2-1.5B-shaped BF16 checkpoint of
// make-random-checkpoint.ts (made first if missing) to a BF16 GGUF in the same cache folder.
//
//   npx tsx scripts/bench/verify.ts [model.gguf] [--rounds N] [--chunk-mib N] [--json]

import { spawn } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { convertCheckpoint } from '../../src/convert/index.js';
import { verifyModel } from '../../src/gguf/verifyModel.js';
import { defaultCheckpointDir, makeRandomCheckpoint } from '../fixtures/make-random-checkpoint.js';

/** Seconds `command args` takes (its output discarded). */
function timeCommand(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`${command} exited ${code}`))));
  });
}

async function verifySeconds(path: string, chunkBytes: number): Promise<number> {
  const started = performance.now();
  const result = await verifyModel(path, { chunkBytes });
  if (result.status !== 'verified') throw new Error(`${path} did not verify: ${result.status}`);
  return (performance.now() - started) / 1000;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function defaultModel(): Promise<string> {
  const checkpoint = defaultCheckpointDir('qwen2-1.5b', 'bf16', 2);
  const model = join(checkpoint, 'bench-verify-bf16.gguf');
  if (existsSync(model)) return model;
  if (!existsSync(join(checkpoint, 'config.json'))) {
    console.error(`making the random 1.5B checkpoint in ${checkpoint} ...`);
    await makeRandomCheckpoint(checkpoint, { shape: 'qwen2-1.5b', dtype: 'bf16', shards: 2, seed: 1 });
  }
  console.error(`converting it to ${model} ...`);
  await convertCheckpoint(checkpoint, model, { type: 'bf16' });
  return model;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { rounds: { type: 'string', default: '5' }, 'chunk-mib': { type: 'string', default: '8' }, json: { type: 'boolean', default: false } },
  });
  const rounds = Number(values.rounds);
  const chunkBytes = Number(values['chunk-mib']) * 2 ** 20;
  const path = positionals[0] ?? (await defaultModel());
  const { size } = await stat(path);
  const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
  await timeCommand('sha256sum', [path]); // warm the page cache: every side then hashes, none waits on the disk
  const sums: number[] = [];
  const openssls: number[] = [];
  const verifies: number[] = [];
  for (let round = 0; round < rounds; round++) {
    sums.push(await timeCommand('sha256sum', [path]));
    if (hasOpenssl) openssls.push(await timeCommand('openssl', ['dgst', '-sha256', path]));
    verifies.push(await verifySeconds(path, chunkBytes));
  }
  const mbps = (seconds: number) => size / 1e6 / seconds;
  const report = {
    path,
    bytes: size,
    rounds,
    chunkMiB: chunkBytes / 2 ** 20,
    sha256sumMBps: Math.round(mbps(median(sums))),
    opensslMBps: hasOpenssl ? Math.round(mbps(median(openssls))) : null,
    verifyMBps: Math.round(mbps(median(verifies))),
    ratio: Number((median(sums) / median(verifies)).toFixed(3)),
    ratioToOpenssl: hasOpenssl ? Number((median(openssls) / median(verifies)).toFixed(3)) : null,
    sha256sumSeconds: sums.map((s) => Number(s.toFixed(3))),
    opensslSeconds: openssls.map((s) => Number(s.toFixed(3))),
    verifySeconds: verifies.map((s) => Number(s.toFixed(3))),
  };
  if (values.json) console.log(JSON.stringify(report));
  else {
    console.log(`${path} (${(size / 1e6).toFixed(0)} MB), ${rounds} rounds, median of each:`);
    console.log(`  sha256sum       ${report.sha256sumMBps} MB/s`);
    if (hasOpenssl) console.log(`  openssl dgst    ${report.opensslMBps} MB/s`);
    console.log(`  verifyModel     ${report.verifyMBps} MB/s  (${report.ratio}x sha256sum${hasOpenssl ? `, ${report.ratioToOpenssl}x openssl` : ''}; ${report.chunkMiB} MiB reads)`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
