// SPDX-License-Identifier: MIT
// What a new user gets: the packed main package and the linux-x64 platform package installed into
// a brand-new project with no cmake, no C/C++ compiler and no git on PATH, with install scripts
// off; then convert + classify through the CLI, the ESM API and require(), against the repo build.
// Without the platform package (--omit=optional) the CLI fails with the one clear error.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogClassifier } from '../../src/index.js';
import { artifactsDir, expectedCases, repoRoot, tinyCheckpointDir, tinyModel } from '../fixtures/index.js';
import { PINNED_NODE_LLAMA_CPP, pinnedLlamaRelease } from '../helpers/enginePin.js';

const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';
const work = onLinuxX64 ? mkdtempSync(join(tmpdir(), 'logtriage-install-')) : '';
const toolsFree = join(work, 'path');
const NO_TOOLS = ['cmake', 'cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'make', 'git'];

/** PATH with only node, npm and npx: what an install without build tools sees. */
function toolsFreeEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: toolsFree, npm_config_update_notifier: 'false', NO_COLOR: '1' };
}

function run(cmd: string, args: string[], cwd: string, input?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: toolsFreeEnv(), encoding: 'utf8', input, timeout: 600_000 });
}

function newProject(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  return dir;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** The newest GLIBC_x.y / GLIBCXX_x.y.z version a binary needs (objdump -T). */
function newestSymbolVersion(files: string[], prefix: 'GLIBC' | 'GLIBCXX'): number[] {
  const versions: number[][] = [];
  for (const file of files) {
    const dump = spawnSync('objdump', ['-T', file], { encoding: 'utf8' });
    expect(dump.status, `objdump -T ${file}: ${dump.stderr}`).toBe(0);
    for (const m of dump.stdout.matchAll(new RegExp(`\\(${prefix}_([\\d.]+)\\)`, 'g'))) versions.push(m[1]!.split('.').map(Number));
  }
  expect(versions.length).toBeGreaterThan(0);
  return versions.sort(compareVersions).at(-1)!;
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

// Plain one-line cases of the HF parity fixture.
const lines = (onLinuxX64 ? expectedCases() : []).map((c) => c.text).filter((t) => t.trim() && !/[\r\n]/.test(t)).slice(0, 12);

// Child processes under spawnSync on a busy 2-core machine: minutes, not the default 2.
const SLOW = 600_000;

describe.runIf(onLinuxX64)('npm install of the packed tarballs on linux-x64, no build tools, no install scripts', () => {
  let tarballs: { name: string; tarball: string; unpackedSize: number }[] = [];
  let project = '';
  let install: SpawnSyncReturns<string>;
  let installSeconds = 0;
  let model = '';
  let repoLabels: string[] = [];

  beforeAll(async () => {
    mkdirSync(toolsFree, { recursive: true });
    for (const tool of ['node', 'npm', 'npx']) {
      const found = spawnSync('which', [tool], { encoding: 'utf8' }).stdout.trim();
      expect(found, `${tool} on PATH`).not.toBe('');
      symlinkSync(found, join(toolsFree, tool));
    }
    // The current sources, compiled into this test's own folder, and build/Release (npm ci's `prepare`).
    const dist = join(work, 'dist');
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', dist], { cwd: repoRoot, encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    const pack = spawnSync(process.execPath, ['scripts/build/pack-packages.mjs', '--main', '--platform', 'linux-x64', '--dist', dist, '--out', join(work, 'packages')], { cwd: repoRoot, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    tarballs = JSON.parse(pack.stdout);
    expect(tarballs.map((t) => t.name)).toEqual(['logtriage', '@logtriage/linux-x64']);

    project = newProject('fresh');
    const started = performance.now();
    // --prefer-offline: every tarball CI's `npm ci` fetched comes from the local npm cache.
    install = run('npm', ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs.map((t) => t.tarball)], project);
    installSeconds = (performance.now() - started) / 1000;
    expect(install.status, install.stderr).toBe(0);

    mkdirSync(join(artifactsDir, 'packaging'), { recursive: true });
    const clf = await LogClassifier.open(tinyModel('f32'), { threads: 2 });
    try {
      repoLabels = (await clf.classifyMany(lines)).map((r) => r.label);
    } finally {
      await clf.dispose();
    }
  }, 900_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('PATH holds no build tools', () => {
    const runnable = NO_TOOLS.filter((tool) => (spawnSync(tool, ['--version'], { env: toolsFreeEnv() }).error as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT');
    expect(runnable).toEqual([]);
    expect(readdirSync(toolsFree).sort()).toEqual(['node', 'npm', 'npx']);
  });

  it('installs quietly: no engine warning, no git notice, no node-llama-cpp or GPU packages; records time and size', () => {
    const output = install.stdout + install.stderr;
    expect(output).not.toMatch(/EBADENGINE|detached HEAD|allowScripts|gyp|cmake/i);
    const modules = join(project, 'node_modules');
    expect(readdirSync(join(modules, '@logtriage'))).toEqual(['linux-x64']);
    expect(readdirSync(modules)).not.toContain('node-llama-cpp');
    expect(readdirSync(modules)).not.toContain('@node-llama-cpp');
    const bytes = dirBytes(modules);
    const platformBytes = dirBytes(join(modules, '@logtriage', 'linux-x64'));
    const figures = { installSeconds: Number(installSeconds.toFixed(1)), nodeModulesMiB: Number((bytes / 2 ** 20).toFixed(1)), platformPackageMiB: Number((platformBytes / 2 ** 20).toFixed(1)), tarballs };
    writeFileSync(join(artifactsDir, 'packaging', 'install-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`fresh install: ${figures.installSeconds} s, node_modules ${figures.nodeModulesMiB} MiB (platform package ${figures.platformPackageMiB} MiB)`);
    // Targets of issue 12: <= 60 MB of files (du's block count is higher: many small JS files).
    expect(platformBytes).toBeLessThan(25 * 2 ** 20);
    expect(bytes).toBeLessThanOrEqual(60e6);
  });

  it('converts the tiny fixture and classifies through the CLI, the ESM API and require(), as the repo build does', () => {
    expect(lines).toHaveLength(12);
    model = join(project, 'tiny.gguf');
    const bin = join(project, 'node_modules', '.bin', 'logtriage');
    const convert = run(bin, ['convert', tinyCheckpointDir(), '-o', model, '--type', 'f32'], project);
    expect(convert.status, convert.stderr).toBe(0);

    const cli = run(bin, ['classify', '-', '--model', model, '--format', 'jsonl', '--threads', '2'], project, `${lines.join('\n')}\n`);
    expect(cli.status, cli.stderr).toBe(0);
    const cliLabels = cli.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { label: string }).label);

    const script = (load: string) =>
      `${load}\n(async () => { const clf = await LogClassifier.open(${JSON.stringify(model)}, { threads: 2 });\n` +
      `try { const r = await clf.classifyMany(${JSON.stringify(lines)}); console.log(JSON.stringify(r.map((x) => x.label))); } finally { await clf.dispose(); } })();`;
    const esm = run('node', ['--input-type=module', '-e', script("import { LogClassifier } from 'logtriage';")], project);
    expect(esm.status, esm.stderr).toBe(0);
    const cjs = run('node', ['-e', script("const { LogClassifier } = require('logtriage');")], project);
    expect(cjs.status, cjs.stderr).toBe(0);

    expect(repoLabels).toHaveLength(lines.length);
    expect(cliLabels).toEqual(repoLabels);
    expect(JSON.parse(esm.stdout)).toEqual(repoLabels);
    expect(JSON.parse(cjs.stdout)).toEqual(repoLabels);
  }, SLOW);

  it('info --devices loads the ggml CPU backends from the platform package', () => {
    const info = run(join(project, 'node_modules', '.bin', 'logtriage'), ['info', '--devices', '--json'], project);
    expect(info.status, info.stderr).toBe(0);
    const devices = (JSON.parse(info.stdout) as { devices: { type: string }[] }).devices;
    expect(devices.filter((d) => d.type === 'cpu')).toHaveLength(1);
  }, SLOW);

  it('--omit=optional → the one clear error, a non-zero exit, no stack trace', () => {
    const bare = newProject('no-optional');
    const main = tarballs.find((t) => t.name === 'logtriage')!.tarball;
    const res = run('npm', ['install', '--ignore-scripts', '--prefer-offline', '--omit=optional', '--no-audit', '--no-fund', main], bare);
    expect(res.status, res.stderr).toBe(0);
    expect(readdirSync(join(bare, 'node_modules'))).not.toContain('@logtriage');
    const cli = run(join(bare, 'node_modules', '.bin', 'logtriage'), ['classify', '-', '--model', join(project, 'tiny.gguf')], bare, 'one line\n');
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('could not be loaded on linux-x64 (glibc');
    expect(cli.stderr).toContain('@logtriage/linux-x64 (not installed)');
    expect(cli.stderr).toContain('npm install --include=optional logtriage');
    expect(cli.stderr).toContain('npm explore logtriage -- npm run build:native');
    expect(cli.stderr).not.toMatch(/\n\s+at /);
  }, SLOW);

  it('a from-source build without the tools names each missing one in one line, no stack, no git needed', () => {
    const build = run('node', [join(project, 'node_modules', 'logtriage', 'scripts', 'build', 'build-native.mjs')], project);
    expect(build.status).toBe(1);
    const errors = build.stderr.trim().split('\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\[logtriage build\] error: cannot build the addon from source, missing: cmake >= 3\.15 \(not found on PATH\); a C\+\+17 compiler/);
    expect(errors[0]).toContain('npm install --no-save cmake-js@8.0.0 node-addon-api@8.9.2');
    expect(errors[0]).not.toMatch(/git/);
    const headers = readdirSync(join(project, 'node_modules', 'logtriage', 'llama-headers', 'include')).sort();
    expect(headers).toEqual(['llama-cpp.h', 'llama.h']);
  }, SLOW);

  it("the addon needs no newer glibc / libstdc++ than node-llama-cpp's libraries", () => {
    const nlcDir = join(repoRoot, 'node_modules', '@node-llama-cpp', 'linux-x64', 'bins', 'linux-x64');
    const nlcLibs = readdirSync(nlcDir).filter((f) => f.endsWith('.so')).map((f) => join(nlcDir, f));
    const addon = [join(project, 'node_modules', '@logtriage', 'linux-x64', 'lib', 'logtriage.node')];
    for (const prefix of ['GLIBC', 'GLIBCXX'] as const) {
      const ours = newestSymbolVersion(addon, prefix);
      const theirs = newestSymbolVersion(nlcLibs, prefix);
      expect(compareVersions(ours, theirs), `${prefix}: ours ${ours.join('.')}, node-llama-cpp ${theirs.join('.')}`).toBeLessThanOrEqual(0);
    }
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules', '@logtriage', 'linux-x64', 'lib', 'logtriage-build.json'), 'utf8'));
    expect(manifest).toMatchObject({ platform: 'linux-x64', nodeLlamaCpp: PINNED_NODE_LLAMA_CPP, llama: 'prebuilt', llamaCpp: { release: pinnedLlamaRelease() } });
    expect(manifest.llamaCpp.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(manifest.cpuVariants.length).toBeGreaterThan(5);
  }, SLOW);
});
