// SPDX-License-Identifier: MIT
// Measures the converter's peak resident memory and wall time on a Qwen2-1.5B-shaped checkpoint
// (generated with random weights on first use, BF16 in 2 shards), converting to F16 in a child
// process whose own getrusage maxRSS is the figure reported. The GGUF is deleted afterwards.
//
//   npx tsx scripts/bench/convertRss.ts [--checkpoint dir] [--type f16] [--out file.gguf] [--keep] [--clean]

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { convertCheckpoint } from '../../src/convert/index.js';
import type { ConvertType } from '../../src/convert/index.js';
import { defaultCheckpointDir, makeRandomCheckpoint } from '../fixtures/make-random-checkpoint.js';

interface Measurement {
  readonly maxRssMiB: number;
  readonly seconds: number;
  readonly bytes: number;
}

/** Child: convert once and report this process's own peak RSS. */
async function measureHere(checkpoint: string, out: string, type: ConvertType): Promise<void> {
  const started = performance.now();
  const result = await convertCheckpoint(checkpoint, out, { type });
  const measurement: Measurement = {
    maxRssMiB: process.resourceUsage().maxRSS / 1024, // maxRSS is in KiB
    seconds: (performance.now() - started) / 1000,
    bytes: result.bytes,
  };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

function runChild(args: string[]): Promise<Measurement> {
  return new Promise((resolvePromise, reject) => {
    // execArgv carries tsx's loader flags into the child.
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`converter child exited with code ${code}`));
      else resolvePromise(JSON.parse(stdout.trim().split('\n').at(-1)!) as Measurement);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      checkpoint: { type: 'string' },
      type: { type: 'string', default: 'f16' },
      out: { type: 'string' },
      child: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      clean: { type: 'boolean', default: false },
    },
  });
  const checkpoint = resolve(values.checkpoint ?? defaultCheckpointDir('qwen2-1.5b', 'bf16', 2));
  const out = resolve(values.out ?? join(tmpdir(), `logtriage-rss-${process.pid}.gguf`));
  const type = values.type as ConvertType;
  if (values.child) return measureHere(checkpoint, out, type);

  if (!existsSync(join(checkpoint, 'config.json'))) {
    console.error(`Generating a random Qwen2-1.5B-shaped BF16 checkpoint (2 shards) in ${checkpoint} ...`);
    await makeRandomCheckpoint(checkpoint, { shape: 'qwen2-1.5b', dtype: 'bf16', shards: 2 });
  }
  try {
    const m = await runChild(['--child', '--checkpoint', checkpoint, '--out', out, '--type', type]);
    console.log(`convert ${checkpoint} → ${type}: peak RSS ${m.maxRssMiB.toFixed(0)} MiB, ${m.seconds.toFixed(1)} s, output ${(m.bytes / 2 ** 30).toFixed(2)} GiB`);
  } finally {
    if (!values.keep) await rm(out, { force: true });
    if (values.clean) await rm(checkpoint, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
