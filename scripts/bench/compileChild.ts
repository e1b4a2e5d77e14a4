// SPDX-License-Identifier: MIT
// Benchmark children run as plain JavaScript, like an application would run the library: under
// tsx each child carried ~75 MiB of transpiler in its peak RSS. esbuild bundles our sources
// (npm packages stay external) into <repo>/.bench-build/, one level below the repository root
// like src/, so the addon and package lookups relative to the module resolve as they do there.
// LOGTRIAGE_BENCH_PREBUILT=<folder> uses children compiled beforehand (scripts/gpu/bundle-gpu-check.mjs),
// for a machine that has Node but no node_modules.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timed } from './llamaTools.js';
import type { ContenderResult } from './results.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const compiled = new Map<string, string>();

/** Path of `scripts/bench/<script>` compiled to an .mjs file (once per run). */
export async function compileChild(script: string): Promise<string> {
  const cached = compiled.get(script);
  if (cached) return cached;
  const prebuilt = process.env.LOGTRIAGE_BENCH_PREBUILT;
  if (prebuilt) {
    const file = join(prebuilt, `${basename(script, '.ts')}.mjs`);
    if (!existsSync(file)) throw new Error(`LOGTRIAGE_BENCH_PREBUILT names ${prebuilt}, which has no ${basename(file)}`);
    return file;
  }
  const outfile = join(root, '.bench-build', `${basename(script, '.ts')}.mjs`);
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, 'scripts', 'bench', script)],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  });
  compiled.set(script, outfile);
  return outfile;
}

/** Runs `scripts/bench/<script>` compiled, with `payload` as its argument: its last stdout line is its result. */
export async function runChild(script: string, payload: object, rssFile: string): Promise<ContenderResult> {
  const r = await timed([process.execPath, await compileChild(script), JSON.stringify(payload)], rssFile);
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as ContenderResult), peakRssMiB: r.peakRssMiB };
}
