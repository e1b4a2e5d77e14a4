// SPDX-License-Identifier: MIT
// What verification costs open(): LogClassifier.open() + dispose() of one model with verify false,
// true (hash on every open, overlapped with the load), and 'once' on a file already stamped (the
// default's steady state), each with the page cache warm and cold. Cold evicts the file's pages
// first (`dd iflag=nocache count=0`, posix_fadvise DONTNEED on this file only, so the other
// processes of the machine keep theirs); fincore confirms it. Rounds interleave the modes, so all
// see the same machine load; medians are reported. Stamps go to a temporary LOGTRIAGE_CACHE_DIR.
//
//   npx tsx scripts/bench/openVerify.ts [model.gguf] [--rounds N] [--json]
// Without a model: the 1.5B-shaped Q8_0 of the main bench (~/.cache/logtriage/bench/qwen2-1.5b-random-q8_0.gguf).

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { LogClassifier } from '../../src/index.js';
import { cacheDirFromEnv } from '../../src/hub/readHubSettings.js';
import { verifyCounters } from '../../src/hub/checkModelOnOpen.js';

type Mode = 'false' | 'true' | 'once-stamped';
const VERIFY: Record<Mode, false | true | 'once'> = { false: false, true: true, 'once-stamped': 'once' };

/** Drops this file's pages from the page cache; returns the share still resident (fincore), or null without fincore. */
function evict(path: string): number | null {
  spawnSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
  const out = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES,SIZE', path], { encoding: 'utf8' });
  if (out.status !== 0) return null;
  const [res, size] = out.stdout.trim().split(/\s+/).map(Number);
  return res! / size!;
}

function warm(path: string): void {
  spawnSync('cat', [path], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function openSeconds(path: string, verify: false | true | 'once'): Promise<number> {
  const started = performance.now();
  const clf = await LogClassifier.open(path, { verify, threads: 2 });
  const seconds = (performance.now() - started) / 1000;
  await clf.dispose();
  return seconds;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { rounds: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
  const path = positionals[0] ?? join(cacheDirFromEnv(), 'bench', 'qwen2-1.5b-random-q8_0.gguf');
  const rounds = Number(values.rounds);
  const { size } = await stat(path);
  const stamps = await mkdtemp(join(tmpdir(), 'logtriage-bench-stamps-'));
  process.env.LOGTRIAGE_CACHE_DIR = stamps;
  try {
    warm(path);
    await openSeconds(path, 'once'); // hashes and stamps: 'once-stamped' finds the stamp from here on
    const times: Record<string, number[]> = {};
    let residentAfterEvict = 0;
    for (let round = 0; round < rounds; round++) {
      for (const cache of ['warm', 'cold'] as const) {
        for (const mode of Object.keys(VERIFY) as Mode[]) {
          if (cache === 'cold') residentAfterEvict = Math.max(residentAfterEvict, evict(path) ?? 0);
          else warm(path);
          const hashedBefore = verifyCounters.hashed;
          (times[`${mode}/${cache}`] ??= []).push(await openSeconds(path, VERIFY[mode]));
          const hashed = verifyCounters.hashed - hashedBefore;
          if (hashed !== (mode === 'true' ? 1 : 0)) throw new Error(`verify ${mode} hashed ${hashed} times`);
        }
      }
    }
    const report = {
      path,
      bytes: size,
      rounds,
      residentAfterEvict: Number(residentAfterEvict.toFixed(4)),
      medianSeconds: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Number(median(v).toFixed(3))])),
      seconds: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.map((s) => Number(s.toFixed(3)))])),
      loadavg: (await import('node:os')).loadavg().map((l) => Number(l.toFixed(2))),
    };
    if (values.json) console.log(JSON.stringify(report));
    else {
      console.log(`${path} (${(size / 1e6).toFixed(0)} MB), ${rounds} rounds, open()+dispose() median seconds; load average ${report.loadavg.join(' ')}`);
      for (const [k, v] of Object.entries(report.medianSeconds)) console.log(`  verify ${k.padEnd(20)} ${v.toFixed(3)} s`);
    }
  } finally {
    await rm(stamps, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
