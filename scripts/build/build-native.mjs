#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Builds the native addon: compiles only our C++ (seconds) against prebuilt llama/ggml libraries.
// In this repo they come from the pinned node-llama-cpp CPU package and the headers from the same
// version's git bundle; in an installed logtriage they come from the installed @logtriage/<platform>
// package and the headers shipped in the tarball (llama-headers/), so no git is needed.
// `--from-source [--gpu cuda|metal|vulkan]` (or LOGTRIAGE_FROM_SOURCE=1, LOGTRIAGE_GPU=...) builds
// llama.cpp itself, from node-llama-cpp's bundle or LOGTRIAGE_LLAMA_SOURCE_DIR, cached outside the
// repo by version and flags. Every missing tool is named in one line; everything works offline.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, copyFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CROSS_TARGETS, NODE_LLAMA_CPP_VERSION as NLC_VERSION, PLATFORMS, cacheRoot, isRuntimeLibrary } from './platforms.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(root, 'package.json'));
const hostPlatform = `${process.platform}-${process.arch}`;

const { values: args } = parseArgs({
  options: {
    'from-source': { type: 'boolean', default: process.env.LOGTRIAGE_FROM_SOURCE === '1' },
    gpu: { type: 'string', default: process.env.LOGTRIAGE_GPU ?? '' },
    sanitize: { type: 'boolean', default: process.env.LOGTRIAGE_SANITIZE === '1' },
    tools: { type: 'boolean', default: false },
    debug: { type: 'boolean', default: false },
    out: { type: 'string', default: join(root, 'build') },
    // Cross-compile from a Linux x64 host to another platform (CROSS below); scripts/build/pack-packages.mjs --build
    // sets up each toolchain and the prebuilt libraries (LOGTRIAGE_LLAMA_LIB_DIR).
    platform: { type: 'string', default: `${process.platform}-${process.arch}` },
  },
});
const platform = args.platform;
/** A cross target (platforms.mjs) with its compiler: CXX_<platform>, else the Debian one; zig wrappers have no default. */
const CROSS = Object.fromEntries(
  Object.entries(CROSS_TARGETS).map(([p, t]) => [p, { ...t, cxx: process.env[`CXX_${p.replace('-', '_')}`] || t.cxx }]),
);
const crossHowTo = (t) => (t.debian ? `apt-get install ${t.debian}` : 'run scripts/build/pack-packages.mjs --platform <p> --build (zig from npm)');

const log = (msg) => process.stderr.write(`[logtriage build] ${msg}\n`);

/** One line, no stack trace, exit 1: every failure here is something the user can fix. */
function fail(msg) {
  log(`error: ${msg}`);
  process.exit(1);
}

function onPath(cmd) {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD').split(';') : [''];
  for (const dir of (process.env.PATH ?? '').split(process.platform === 'win32' ? ';' : ':')) {
    if (dir && exts.some((ext) => existsSync(join(dir, cmd + ext)))) return true;
  }
  return false;
}

function run(cmd, argv, opts = {}) {
  const result = spawnSync(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (result.error) fail(`could not run ${cmd}: ${result.error.message}`);
  if (result.status !== 0) fail(`${cmd} ${argv[0] ?? ''} failed (exit ${result.status ?? result.signal}); its output is above`);
}

/** Names every missing tool at once, before anything is compiled. */
function checkTools({ git }) {
  const missing = [];
  const cmake = spawnSync('cmake', ['--version'], { encoding: 'utf8' });
  const cmakeVersion = /cmake version (\d+)\.(\d+)/.exec(cmake.stdout ?? '');
  if (cmake.error || !cmakeVersion) missing.push('cmake >= 3.15 (not found on PATH)');
  else if (Number(cmakeVersion[1]) * 100 + Number(cmakeVersion[2]) < 315) missing.push(`cmake >= 3.15 (found ${cmakeVersion[0]})`);
  if (process.platform !== 'win32') {
    const compilers = [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean);
    if (!compilers.some(onPath)) missing.push(`a C++17 compiler (none of ${compilers.join(', ')} on PATH; set CXX)`);
  }
  if (git && !onPath('git')) missing.push("git (to unpack llama.cpp from node-llama-cpp's bundle)");
  const packages = ['cmake-js', 'node-addon-api'].filter((pkg) => !packageDir(pkg, require));
  if (packages.length > 0) missing.push(`the npm packages ${packages.join(', ')} (\`npm install --no-save cmake-js@8.0.0 node-addon-api@8.9.2\`)`);
  if (missing.length > 0) fail(`cannot build the addon from source, missing: ${missing.join('; ')}`);
}

// Packages whose `exports` hide package.json: look through the resolver's search paths instead.
function packageDir(name, fromRequire) {
  for (const base of fromRequire.resolve.paths(name) ?? []) {
    if (existsSync(join(base, name, 'package.json'))) return join(base, name);
  }
  return undefined;
}

/**
 * node-llama-cpp, a dev dependency of this repo; undefined in an installed logtriage (its tarball
 * carries llama-headers/), which never uses a node-llama-cpp the user's project may have.
 */
function nodeLlamaCpp() {
  if (existsSync(join(root, 'llama-headers'))) return undefined;
  // The pin lives in platforms.mjs and in package.json (npm installs that one): an upgrade that moves one without the other stops here.
  const declared = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies?.['node-llama-cpp'];
  if (declared !== NLC_VERSION) fail(`package.json pins node-llama-cpp ${declared}, scripts/build/platforms.mjs ${NLC_VERSION}: set both to the same exact version`);
  const dir = packageDir('node-llama-cpp', require);
  if (!dir) fail(`node-llama-cpp@${NLC_VERSION} (a dev dependency) is not installed: run \`npm install\``);
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  if (version !== NLC_VERSION) fail(`node-llama-cpp ${version} found, ${NLC_VERSION} required: run \`npm install\``);
  const release = JSON.parse(readFileSync(join(dir, 'llama', 'binariesGithubRelease.json'), 'utf8')).release;
  return { dir, release };
}

// llama.cpp sources from the bundle, cloned once into the cache (never into the repo).
function llamaSource(nlc) {
  const dest = join(cacheRoot(), 'llama.cpp', `${NLC_VERSION}-${nlc.release}`);
  if (!existsSync(join(dest, 'include', 'llama.h'))) {
    const bundle = join(nlc.dir, 'llama', 'gitRelease.bundle');
    if (!existsSync(bundle)) fail(`${bundle} is missing: reinstall node-llama-cpp@${NLC_VERSION}`);
    if (!onPath('git')) fail("git is not on PATH (needed once to unpack llama.cpp from node-llama-cpp's bundle)");
    const tmp = `${dest}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(dirname(dest), { recursive: true });
    log(`extracting llama.cpp ${nlc.release} from the node-llama-cpp bundle`);
    // -c advice.detachedHead=false: the bundle's HEAD is a tag; git's 15-line notice is noise here.
    run('git', ['-c', 'advice.detachedHead=false', 'clone', '--quiet', bundle, tmp]);
    rmSync(dest, { recursive: true, force: true });
    renameSync(tmp, dest);
  }
  const head = spawnSync('git', ['-C', dest, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  return { dir: dest, release: nlc.release, commit: head.status === 0 ? head.stdout.trim() : 'unknown' };
}

/**
 * Headers to compile against: the bundle's sources in this repo; in an installed package, the
 * llama.cpp / ggml public headers that scripts/build/pack-packages.mjs puts into the tarball.
 */
function llamaHeaders(nlc) {
  if (nlc) return llamaSource(nlc);
  const shipped = join(root, 'llama-headers');
  if (!existsSync(join(shipped, 'include', 'llama.h'))) {
    fail(`no llama.cpp headers: ${shipped} is missing and node-llama-cpp@${NLC_VERSION} is not installed (reinstall logtriage)`);
  }
  const { release, commit } = JSON.parse(readFileSync(join(shipped, 'llama.cpp.json'), 'utf8'));
  return { dir: shipped, release, commit };
}

// The prebuilt libraries: LOGTRIAGE_LLAMA_LIB_DIR, else node-llama-cpp's CPU package (this repo),
// else the ones the installed @logtriage/<platform> package ships beside its addon.
function prebuiltLibDir(nlc) {
  if (process.env.LOGTRIAGE_LLAMA_LIB_DIR) return resolve(process.env.LOGTRIAGE_LLAMA_LIB_DIR);
  const entry = PLATFORMS[platform];
  if (!entry) fail(`no prebuilt llama.cpp for ${platform}: build llama.cpp too with --from-source (LOGTRIAGE_FROM_SOURCE=1)`);
  if (nlc) {
    const name = entry.nlcPackage;
    const pkgDir = packageDir(`@node-llama-cpp/${name}`, createRequire(join(nlc.dir, 'package.json')));
    if (!pkgDir) fail(`@node-llama-cpp/${name}@${NLC_VERSION} is not installed (optional dependency skipped?): run \`npm install --include=optional\`, or use --from-source`);
    const libDir = join(pkgDir, 'bins', name);
    if (!existsSync(libDir)) fail(`${libDir} is missing: reinstall @node-llama-cpp/${name}@${NLC_VERSION}`);
    return libDir;
  }
  const pkgDir = packageDir(`@logtriage/${platform}`, require);
  if (!pkgDir) fail(`@logtriage/${platform} is not installed, so there are no prebuilt llama.cpp libraries to link: run \`npm install --include=optional\`, or build llama.cpp too with LOGTRIAGE_FROM_SOURCE=1`);
  return join(pkgDir, 'lib');
}

const GPU_FLAGS = {
  '': [],
  cuda: ['-DGGML_CUDA=ON'],
  metal: ['-DGGML_METAL=ON', '-DGGML_METAL_EMBED_LIBRARY=ON'],
  vulkan: ['-DGGML_VULKAN=ON'],
};

function buildLlamaFromSource(src) {
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
  const buildDir = join(cacheRoot(), 'llama-build', `${NLC_VERSION}-${src.release}-${args.gpu || 'cpu'}-${key}`);
  const stamp = join(buildDir, '.logtriage-complete');
  if (!existsSync(stamp)) {
    log(`building llama.cpp from source into ${buildDir} (about 11 minutes on 2 cores)`);
    run('cmake', ['-S', src.dir, '-B', buildDir, ...flags]);
    run('cmake', ['--build', buildDir, '--config', 'Release', '-j', String(buildJobs())]);
    writeFileSync(stamp, flags.join('\n'));
  } else {
    log(`reusing cached llama.cpp build ${buildDir}`);
  }
  return join(buildDir, 'bin');
}

// Full llama.cpp sources for --from-source: a checkout named by LOGTRIAGE_LLAMA_SOURCE_DIR, else
// node-llama-cpp's bundle (this repo). The shipped headers alone cannot build llama.cpp.
function llamaFullSource(nlc, headers) {
  const dir = process.env.LOGTRIAGE_LLAMA_SOURCE_DIR;
  if (dir) {
    if (!existsSync(join(dir, 'CMakeLists.txt'))) fail(`LOGTRIAGE_LLAMA_SOURCE_DIR=${dir} is not a llama.cpp checkout (no CMakeLists.txt)`);
    return { dir: resolve(dir), release: headers.release, commit: headers.commit };
  }
  if (nlc) return headers;
  fail(`building llama.cpp itself needs its sources: set LOGTRIAGE_LLAMA_SOURCE_DIR to a checkout of ggml-org/llama.cpp at ${headers.commit} (release ${headers.release})`);
}

// llama.cpp's own llama-embedding and llama-bench, the benchmark's reference contenders (issue #5):
// their sources from the same bundle, compiled and linked against the same prebuilt libraries as
// the addon (node-llama-cpp's libllama-common exports the common_* helpers they use), so every
// contender runs the same engine build and CPU variant. Cached outside the repo; seconds to build.
function buildLlamaTools(src, libDir) {
  const srcDir = src.dir;
  const outDir = join(cacheRoot(), 'llama-tools', `${NLC_VERSION}-${src.release}-${PLATFORMS[platform].nlcPackage}`);
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
  writeFileSync(join(cacheRoot(), 'llama-tools', 'current.json'), JSON.stringify({ binDir: outDir, release: src.release }, null, 2));
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


async function compileAddon(headers, libDir) {
  const { BuildSystem } = require('cmake-js');
  const options = {
    directory: root,
    out: args.out,
    debug: args.debug,
    cMakeOptions: {
      ...crossCompileOptions(),
      LLAMA_SOURCE_DIR: headers.dir,
      LLAMA_LIB_DIR: libDir,
      LOGTRIAGE_LLAMA_RELEASE: headers.release,
      LOGTRIAGE_SANITIZE: args.sanitize ? 'ON' : 'OFF',
    },
  };
  const buildSystem = new BuildSystem(options);
  await buildSystem.rebuild();
}

/** CMake's cross-compiling mode for --platform other than this machine's. */
function crossCompileOptions() {
  if (platform === hostPlatform) return {};
  const cross = CROSS[platform];
  if (!cross || hostPlatform !== 'linux-x64') fail(`cannot cross-compile for ${platform} on ${hostPlatform} (from linux-x64: ${Object.keys(CROSS).join(', ')})`);
  const envName = `CXX_${platform.replace('-', '_')}`;
  if (!cross.cxx || !(onPath(cross.cxx) || existsSync(cross.cxx))) fail(`no C++ compiler for ${platform}: ${cross.cxx ?? 'none set'} (${crossHowTo(cross)}; or set ${envName})`);
  return { CMAKE_SYSTEM_NAME: cross.system, CMAKE_SYSTEM_PROCESSOR: cross.processor, CMAKE_CXX_COMPILER: cross.cxx };
}

/** What compiled the addon, for the manifest: the toolchain's name and version, the target, its OS floor. */
function toolchainFacts() {
  const cxx = platform === hostPlatform ? process.env.CXX || 'c++' : CROSS[platform].cxx;
  const version = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
  return {
    compiler: cxx,
    compilerVersion: version.status === 0 ? version.stdout.split('\n')[0].trim() : 'unknown',
    // LOGTRIAGE_TOOLCHAIN names a toolchain the compiler's banner does not (zig wraps clang).
    toolchain: process.env.LOGTRIAGE_TOOLCHAIN || null,
    minOS: CROSS[platform]?.minOS ?? null,
  };
}

// The addon finds these next to itself ($ORIGIN / @loader_path rpath; Windows searches the
// addon's folder) and loads the ggml backends from the same folder.
function copyLibraries(libDir, outDir) {
  for (const name of readdirSync(libDir)) {
    if (isRuntimeLibrary(name)) copyFileSync(join(libDir, name), join(outDir, name));
  }
}

/** The build manifest, shipped in each @logtriage/<platform> package as lib/logtriage-build.json. */
function buildManifest(headers, libDir, fromSource) {
  const libs = readdirSync(libDir).filter(isRuntimeLibrary);
  const variant = (name) => name.replace(/^(lib)?ggml-cpu-?/, '').replace(/\.(so|dylib|dll)$/, '') || 'default';
  return {
    logtriage: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    platform,
    nodeLlamaCpp: NLC_VERSION,
    llamaCpp: { repo: 'ggml-org/llama.cpp', release: headers.release, commit: headers.commit },
    llama: fromSource ? 'source' : 'prebuilt',
    libraries: fromSource ? 'built from source' : `@node-llama-cpp/${PLATFORMS[platform]?.nlcPackage}@${NLC_VERSION}`,
    cpuVariants: libs.filter((n) => /ggml-cpu/.test(n)).map(variant).sort(),
    gpuBackends: libs.map((n) => /ggml-(metal|cuda|vulkan)/.exec(n)?.[1]).filter(Boolean),
    gpu: args.gpu || null,
    sanitize: args.sanitize,
    napiVersion: 8,
    builtWith: { node: process.version, ...toolchainFacts() },
  };
}

async function main() {
  const started = Date.now();
  const nlc = nodeLlamaCpp();
  if (args.tools) {
    if (process.platform !== 'linux' || !nlc) fail('--tools builds the benchmark contenders on Linux, in the repo (needs node-llama-cpp)');
    buildLlamaTools(llamaSource(nlc), prebuiltLibDir(nlc));
    return;
  }
  const fromSource = args['from-source'] || Boolean(args.gpu);
  if (fromSource && platform !== hostPlatform) fail('--from-source builds for this machine only; cross-compiling links the prebuilt libraries');
  checkTools({ git: Boolean(nlc) && !existsSync(join(cacheRoot(), 'llama.cpp', `${NLC_VERSION}-${nlc.release}`, 'include', 'llama.h')) });
  const headers = llamaHeaders(nlc);
  const libDir = fromSource ? buildLlamaFromSource(llamaFullSource(nlc, headers)) : prebuiltLibDir(nlc);
  await compileAddon(headers, libDir);
  const outDir = join(args.out, args.debug ? 'Debug' : 'Release');
  copyLibraries(libDir, outDir);
  writeFileSync(join(outDir, 'logtriage-build.json'), `${JSON.stringify(buildManifest(headers, libDir, fromSource), null, 2)}\n`);
  log(`addon built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${join(outDir, 'logtriage.node')}`);
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
