// SPDX-License-Identifier: MIT
// What verification costs open(), and what overlapping the hash with the load gains:
// LogClassifier.open() + dispose() of one model checked four ways —
//   none      verify: false (no check)
//   after     verify: false, then verifyModel() once open() resolved (hash after the load, sequential)
//   beside    verify: true (the hash runs beside the load, as open() does on a first open)
//   stamped   verify: 'once' on a file already stamped (the default's steady state)
// each with the page cache warm, cold, and (with --slow-mbps) cold behind a slow disk. Cold evicts
// this file's pages only (`dd iflag=nocache count=0`: posix_fadvise DONTNEED), so the machine's
// other processes keep theirs; fincore confirms it. The slow disk is a cgroup v1 blkio read-bandwidth
// throttle on the file's block device (blkio.throttle.read_bps_device), which this process joins for
// the slow runs only: reads and page faults it causes are throttled, the eviction is not. Device-mapper
// delay (dm-delay) would be the closer model of a slow disk, but needs the kernel's device-mapper driver.
// Rounds interleave the modes, so all see the same machine load; medians are reported. Stamps go to a
// temporary LOGTRIAGE_CACHE_DIR.
//
//   npx tsx scripts/bench/openVerify.ts [model.gguf] [--rounds N] [--slow-mbps MBps] [--json]
// Without a model: the 1.5B-shaped Q8_0 of the main bench (~/.cache/logtriage/bench/qwen2-1.5b-random-q8_0.gguf).
// --slow-mbps needs root and a cgroup v1 blkio hierarchy at /sys/fs/cgroup/blkio.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { LogClassifier } from '../../src/index.js';
import { cacheDirFromEnv } from '../../src/hub/readHubSettings.js';
import { verifyCounters } from '../../src/hub/checkModelOnOpen.js';
import { verifyModel } from '../../src/gguf/verifyModel.js';

const MODES = ['none', 'after', 'beside', 'stamped'] as const;
type Mode = (typeof MODES)[number];
type Cache = 'warm' | 'cold' | 'slow';

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

const BLKIO = '/sys/fs/cgroup/blkio';

/** A blkio cgroup throttling reads from `path`'s block device to `mbps` MB/s; join() moves this process in, leave() back. */
function slowDisk(path: string, mbps: number) {
  const found = spawnSync('findmnt', ['-n', '-o', 'MAJ:MIN', '--target', path], { encoding: 'utf8' });
  let device = found.stdout.trim();
  if (found.status !== 0 || !/^\d+:\d+$/.test(device)) throw new Error(`--slow-mbps: no block device found for ${path} (findmnt: ${found.stderr.trim()})`);
  // The throttle applies to whole disks: a partition's rule goes on its disk.
  if (existsSync(`/sys/dev/block/${device}/partition`)) device = readFileSync(`/sys/dev/block/${device}/../dev`, 'utf8').trim();
  if (!existsSync(join(BLKIO, 'cgroup.procs'))) throw new Error(`--slow-mbps needs a cgroup v1 blkio hierarchy at ${BLKIO}`);
  const group = join(BLKIO, `logtriage-bench-${process.pid}`);
  mkdirSync(group);
  writeFileSync(join(group, 'blkio.throttle.read_bps_device'), `${device} ${Math.round(mbps * 1e6)}`);
  const home = readFileSync('/proc/self/cgroup', 'utf8').match(/^\d+:blkio:(.*)$/m)?.[1] ?? '/';
  return {
    device,
    join: () => writeFileSync(join(group, 'cgroup.procs'), String(process.pid)),
    leave: () => writeFileSync(join(BLKIO, home, 'cgroup.procs'), String(process.pid)),
    remove: () => rmdirSync(group),
  };
}

async function openSeconds(path: string, mode: Mode): Promise<number> {
  const verify = { none: false, after: false, beside: true, stamped: 'once' } as const;
  const started = performance.now();
  const clf = await LogClassifier.open(path, { verify: verify[mode], threads: 2 });
  if (mode === 'after') {
    const result = await verifyModel(path);
    if (result.status !== 'verified') throw new Error(`${path}: ${result.status}`);
  }
  const seconds = (performance.now() - started) / 1000;
  await clf.dispose();
  return seconds;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { rounds: { type: 'string', default: '3' }, 'slow-mbps': { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const path = positionals[0] ?? join(cacheDirFromEnv(), 'bench', 'qwen2-1.5b-random-q8_0.gguf');
  const rounds = Number(values.rounds);
  const slowMbps = values['slow-mbps'] === undefined ? undefined : Number(values['slow-mbps']);
  const { size } = await stat(path);
  const stamps = await mkdtemp(join(tmpdir(), 'logtriage-bench-stamps-'));
  process.env.LOGTRIAGE_CACHE_DIR = stamps;
  const slow = slowMbps === undefined ? undefined : slowDisk(path, slowMbps);
  const caches: Cache[] = slow ? ['warm', 'cold', 'slow'] : ['warm', 'cold'];
  const loadBefore = loadavg();
  try {
    warm(path);
    await openSeconds(path, 'beside');
    await LogClassifier.open(path, { verify: 'once', threads: 2 }).then((c) => c.dispose()); // hashes and stamps: 'stamped' finds the stamp from here on
    const times: Record<string, number[]> = {};
    let residentAfterEvict = 0;
    for (let round = 0; round < rounds; round++) {
      for (const cache of caches) {
        for (const mode of MODES) {
          if (cache === 'warm') warm(path);
          else residentAfterEvict = Math.max(residentAfterEvict, evict(path) ?? 0);
          const hashedBefore = verifyCounters.hashed;
          if (cache === 'slow') slow!.join();
          try {
            (times[`${mode}/${cache}`] ??= []).push(await openSeconds(path, mode));
          } finally {
            if (cache === 'slow') slow!.leave();
          }
          const hashed = verifyCounters.hashed - hashedBefore;
          if (hashed !== (mode === 'beside' ? 1 : 0)) throw new Error(`${mode}: open() hashed ${hashed} times`);
        }
      }
    }
    const medians = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Number(median(v).toFixed(3))]));
    // What running the hash beside the load saves against running it after, per cache state.
    const overlapGain = Object.fromEntries(caches.map((c) => [c, Number((medians[`after/${c}`]! - medians[`beside/${c}`]!).toFixed(3))]));
    const report = {
      path,
      bytes: size,
      rounds,
      slowDisk: slow ? { device: slow.device, readMBps: slowMbps } : null,
      residentAfterEvict: Number(residentAfterEvict.toFixed(4)),
      medianSeconds: medians,
      overlapGainSeconds: overlapGain,
      seconds: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.map((s) => Number(s.toFixed(3)))])),
      loadavg: { before: loadBefore.map((l) => Number(l.toFixed(2))), after: loadavg().map((l) => Number(l.toFixed(2))) },
    };
    if (values.json) console.log(JSON.stringify(report));
    else {
      console.log(`${path} (${(size / 1e6).toFixed(0)} MB), ${rounds} rounds, open()+dispose() median seconds; load average ${report.loadavg.before.join(' ')} -> ${report.loadavg.after.join(' ')}`);
      if (slow) console.log(`slow: cold, reads throttled to ${slowMbps} MB/s on ${slow.device} (cgroup blkio)`);
      console.log(`${'verify'.padEnd(10)}${caches.map((c) => c.padStart(10)).join('')}`);
      for (const mode of MODES) console.log(`${mode.padEnd(10)}${caches.map((c) => `${medians[`${mode}/${c}`]!.toFixed(2)} s`.padStart(10)).join('')}`);
      console.log(`${'gain'.padEnd(10)}${caches.map((c) => `${overlapGain[c]!.toFixed(2)} s`.padStart(10)).join('')}   (after - beside)`);
      console.log(`pages left resident after eviction: ${(residentAfterEvict * 100).toFixed(2)}%`);
    }
  } finally {
    slow?.remove();
    await rm(stamps, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
