#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Builds the native addon. Default: compile only our C++ (seconds) against the prebuilt llama/ggml
// libraries of the pinned node-llama-cpp platform package, with headers from the same version's
// git bundle. `--from-source [--gpu cuda|metal|vulkan]` (or LOGTRIAGE_FROM_SOURCE=1,
// LOGTRIAGE_GPU=...) builds llama.cpp itself from that bundle, cached outside the repo by
// version and flags. Everything works offline.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, copyFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const NLC_VERSION = '3.21.1';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

const { values: args } = parseArgs({
  options: {
    'from-source': { type: 'boolean', default: process.env.LOGTRIAGE_FROM_SOURCE === '1' },
    gpu: { type: 'string', default: process.env.LOGTRIAGE_GPU ?? '' },
    sanitize: { type: 'boolean', default: process.env.LOGTRIAGE_SANITIZE === '1' },
    tools: { type: 'boolean', default: false },
    debug: { type: 'boolean', default: false },
    out: { type: 'string', default: join(root, 'build') },
  },
});

const log = (msg) => process.stderr.write(`[logtriage build] ${msg}\n`);

function fail(msg) {
  log(`error: ${msg}`);
  process.exit(1);
}

function run(cmd, argv, opts = {}) {
  execFileSync(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

function cacheRoot() {
  if (process.env.LOGTRIAGE_CACHE_DIR) return process.env.LOGTRIAGE_CACHE_DIR;
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'logtriage');
}

// The prebuilt package node-llama-cpp ships for this platform (CPU builds; GPU ones are issue #6).
function platformPackage() {
  const key = `${process.platform}-${process.arch}`;
  const table = {
    'linux-x64': 'linux-x64',
    'linux-arm64': 'linux-arm64',
    'linux-arm': 'linux-armv7l',
    'darwin-arm64': 'mac-arm64-metal',
    'darwin-x64': 'mac-x64',
    'win32-x64': 'win-x64',
    'win32-arm64': 'win-arm64',
  };
  return table[key];
}

// Packages whose `exports` hide package.json: look through the resolver's search paths instead.
function packageDir(name, fromRequire) {
  for (const base of fromRequire.resolve.paths(name) ?? []) {
    if (existsSync(join(base, name, 'package.json'))) return join(base, name);
  }
  return undefined;
}

function nodeLlamaCpp() {
  const dir = packageDir('node-llama-cpp', require);
  if (!dir) fail(`node-llama-cpp@${NLC_VERSION} is not installed: run \`npm install\``);
  const pkgJson = join(dir, 'package.json');
  const version = JSON.parse(readFileSync(pkgJson, 'utf8')).version;
  if (version !== NLC_VERSION) fail(`node-llama-cpp ${version} found, ${NLC_VERSION} required`);
  const release = JSON.parse(readFileSync(join(dir, 'llama', 'binariesGithubRelease.json'), 'utf8')).release;
  return { dir, release };
}

// llama.cpp sources from the bundle, cloned once into the cache (never into the repo).
function llamaSource(nlc) {
  const dest = join(cacheRoot(), 'llama.cpp', `${NLC_VERSION}-${nlc.release}`);
  if (existsSync(join(dest, 'include', 'llama.h'))) return dest;
  const bundle = join(nlc.dir, 'llama', 'gitRelease.bundle');
  if (!existsSync(bundle)) fail(`${bundle} is missing: reinstall node-llama-cpp@${NLC_VERSION}`);
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(dest), { recursive: true });
  log(`extracting llama.cpp ${nlc.release} from the node-llama-cpp bundle`);
  run('git', ['clone', '--quiet', bundle, tmp]);
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  return dest;
}

function prebuiltLibDir(nlc) {
  const name = platformPackage();
  if (!name) fail(`no prebuilt llama.cpp for ${process.platform}-${process.arch}: use --from-source`);
  const pkgDir = packageDir(`@node-llama-cpp/${name}`, createRequire(join(nlc.dir, 'package.json')));
  if (!pkgDir) {
    fail(`@node-llama-cpp/${name}@${NLC_VERSION} is not installed (optional dependency skipped?): reinstall, or use --from-source`);
  }
  const libDir = join(pkgDir, 'bins', name);
  if (!existsSync(libDir)) fail(`${libDir} is missing`);
  return libDir;
}

const GPU_FLAGS = {
  '': [],
  cuda: ['-DGGML_CUDA=ON'],
  metal: ['-DGGML_METAL=ON', '-DGGML_METAL_EMBED_LIBRARY=ON'],
  vulkan: ['-DGGML_VULKAN=ON'],
};

function buildLlamaFromSource(srcDir, nlc) {
  const gpuFlags = GPU_FLAGS[args.gpu];
  if (!gpuFlags) fail(`--gpu must be one of cuda, metal, vulkan (got '${args.gpu}')`);
  const flags = [
    '-DCMAKE_BUILD_TYPE=Release',
    '-DBUILD_SHARED_LIBS=ON',
    '-DGGML_BACKEND_DL=ON',
    ...(process.platform === 'darwin' ? ['-DGGML_NATIVE=OFF'] : ['-DGGML_NATIVE=OFF', '-DGGML_CPU_ALL_VARIANTS=ON']),
    '-DLLAMA_BUILD_TESTS=OFF',
    '-DLLAMA_BUILD_EXAMPLES=OFF',
    '-DLLAMA_BUILD_TOOLS=OFF',
    '-DLLAMA_BUILD_SERVER=OFF',
    '-DLLAMA_CURL=OFF',
    '-DLLAMA_OPENSSL=OFF',
    ...gpuFlags,
    ...(process.env.LOGTRIAGE_CMAKE_FLAGS ? process.env.LOGTRIAGE_CMAKE_FLAGS.split(/\s+/).filter(Boolean) : []),
  ];
  const key = createHash('sha256').update(flags.join(' ')).digest('hex').slice(0, 12);
  const buildDir = join(cacheRoot(), 'llama-build', `${NLC_VERSION}-${nlc.release}-${args.gpu || 'cpu'}-${key}`);
  const stamp = join(buildDir, '.logtriage-complete');
  if (!existsSync(stamp)) {
    log(`building llama.cpp from source into ${buildDir} (about 11 minutes on 2 cores)`);
    run('cmake', ['-S', srcDir, '-B', buildDir, ...flags]);
    run('cmake', ['--build', buildDir, '--config', 'Release', '-j', String(buildJobs())]);
    writeFileSync(stamp, flags.join('\n'));
  } else {
    log(`reusing cached llama.cpp build ${buildDir}`);
  }
  return join(buildDir, 'bin');
}

// llama.cpp's own llama-embedding and llama-bench, the benchmark's reference contenders (issue #5):
// their sources from the same bundle, compiled and linked against the same prebuilt libraries as
// the addon (node-llama-cpp's libllama-common exports the common_* helpers they use), so every
// contender runs the same engine build and CPU variant. Cached outside the repo; seconds to build.
function buildLlamaTools(srcDir, libDir, nlc) {
  const outDir = join(cacheRoot(), 'llama-tools', `${NLC_VERSION}-${nlc.release}-${platformPackage()}`);
  mkdirSync(outDir, { recursive: true });
  copyLibraries(libDir, outDir);
  copyFileSync(join(libDir, 'libllama-common.so'), join(outDir, 'libllama-common.so'));
  const common = ['-O3', '-std=c++17', `-I${join(srcDir, 'include')}`, `-I${join(srcDir, 'ggml', 'include')}`, `-I${join(srcDir, 'common')}`, `-I${join(srcDir, 'vendor')}`];
  const libs = ['-L', outDir, '-l:libllama-common.so', `-l:${libraryName(libDir, 'libllama')}`, `-l:${libraryName(libDir, 'libggml.')}`, '-l:libggml-base.so', "-Wl,-rpath,$ORIGIN", '-pthread'];
  const tools = {
    'llama-embedding': [join(srcDir, 'examples', 'embedding', 'embedding.cpp')],
    'llama-bench': [join(srcDir, 'tools', 'llama-bench', 'llama-bench.cpp'), join(srcDir, 'tools', 'llama-bench', 'main.cpp')],
  };
  for (const [name, sources] of Object.entries(tools)) {
    if (!existsSync(join(outDir, name))) run(process.env.CXX || 'g++', [...common, ...sources, '-o', join(outDir, name), ...libs]);
  }
  writeFileSync(join(cacheRoot(), 'llama-tools', 'current.json'), JSON.stringify({ binDir: outDir, release: nlc.release }, null, 2));
  log(`llama.cpp tools in ${outDir}`);
}

// The versioned file name of a prebuilt library, e.g. libllama.v0.4.0.so.
function libraryName(libDir, prefix) {
  const found = readdirSync(libDir).find((f) => f.startsWith(prefix) && f.endsWith('.so') && f !== 'libllama-common.so');
  if (!found) fail(`no ${prefix}*.so in ${libDir}`);
  return found;
}

function buildJobs() {
  return Number(process.env.LOGTRIAGE_BUILD_JOBS) || availableParallelism();
}

function nodeHeadersDir() {
  // Node's own headers (as node-gyp uses) so cmake-js never downloads them.
  const candidates = [process.env.npm_config_nodedir, resolve(process.execPath, '..', '..')].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
}

async function compileAddon(srcDir, libDir, nlc) {
  const { BuildSystem } = require('cmake-js');
  const options = {
    directory: root,
    out: args.out,
    debug: args.debug,
    runtimeDirectory: nodeHeadersDir(),
    cMakeOptions: {
      LLAMA_SOURCE_DIR: srcDir,
      LLAMA_LIB_DIR: libDir,
      LOGTRIAGE_LLAMA_RELEASE: nlc.release,
      LOGTRIAGE_SANITIZE: args.sanitize ? 'ON' : 'OFF',
    },
  };
  const buildSystem = new BuildSystem(options);
  await buildSystem.rebuild();
}

// The addon finds these next to itself ($ORIGIN rpath) and loads backends from the same folder.
function copyLibraries(libDir, outDir) {
  const wanted = /\.(so(\.\d+)*|dylib|dll|metal)$/;
  for (const name of readdirSync(libDir)) {
    if (!wanted.test(name) || name.includes('llama-common')) continue;
    copyFileSync(join(libDir, name), join(outDir, name));
  }
}

async function main() {
  const started = Date.now();
  const nlc = nodeLlamaCpp();
  const srcDir = llamaSource(nlc);
  if (args.tools) {
    if (process.platform !== 'linux') fail('--tools builds the benchmark contenders on Linux only');
    buildLlamaTools(srcDir, prebuiltLibDir(nlc), nlc);
    return;
  }
  const fromSource = args['from-source'] || Boolean(args.gpu);
  const libDir = fromSource ? buildLlamaFromSource(srcDir, nlc) : prebuiltLibDir(nlc);
  await compileAddon(srcDir, libDir, nlc);
  const outDir = join(args.out, args.debug ? 'Debug' : 'Release');
  copyLibraries(libDir, outDir);
  writeFileSync(join(outDir, 'logtriage-build.json'), JSON.stringify({
    nodeLlamaCpp: NLC_VERSION,
    llamaRelease: nlc.release,
    llama: fromSource ? 'source' : 'prebuilt',
    gpu: args.gpu || null,
    sanitize: args.sanitize,
    platform: `${process.platform}-${process.arch}`,
    nodeAbi: process.versions.modules,
    napiVersion: process.versions.napi,
  }, null, 2));
  log(`addon built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${join(outDir, 'logtriage.node')}`);
}

main().catch((err) => fail(err?.stack ?? String(err)));
