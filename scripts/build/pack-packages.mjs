#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Packs the release tarballs into --out (default packages/):
//   --all                      everything, from this Linux x64 machine: compiles the TypeScript,
//                              builds the addon for each of the five platforms (cross toolchains
//                              from scripts/build/cross/toolchains.mjs: Debian's aarch64 and mingw-w64
//                              compilers, zig from npm for macOS) and packs the main package and
//                              the five platform packages. The release workflow runs the same.
//   --main                     logtriage: dist, bin, docs, the addon's C++ and CMakeLists.txt, the
//                              llama.cpp / ggml public headers (llama-headers/, generated here, never
//                              committed) and the @logtriage/<platform> packages as exact-version
//                              optional dependencies. No install script, no devDependencies.
//   --platform <p>[,<p>…] [--addon-dir build/Release] [--build]
//                              @logtriage/<p> from npm/<p>/: lib/logtriage.node, the llama/ggml
//                              libraries it links (copied next to it by build-native.mjs) and
//                              lib/logtriage-build.json (versions, llama.cpp commit, CPU/GPU variants,
//                              toolchain, OS floor). --build builds each first, into the cache
//                              (~/.cache/logtriage/cross/build), reused until an input changes
//                              (--rebuild forces it); without it, one platform is packed from --addon-dir.
// Without --all, run `npm run build` and `npm run build:native` first. Prints a JSON summary.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareToolchain } from './cross/toolchains.mjs';
import { NODE_LLAMA_CPP_VERSION, PLATFORMS, cacheRoot, isRuntimeLibrary } from './platforms.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: args } = parseArgs({
  options: {
    all: { type: 'boolean', default: false },
    main: { type: 'boolean', default: false },
    build: { type: 'boolean', default: false },
    rebuild: { type: 'boolean', default: false },
    platform: { type: 'string' },
    'addon-dir': { type: 'string', default: join(root, 'build', 'Release') },
    out: { type: 'string', default: join(root, 'packages') },
    // Compiled TypeScript to ship (tests compile into their own folder instead of racing on dist/).
    dist: { type: 'string', default: join(root, 'dist') },
  },
});

function fail(msg) {
  process.stderr.write(`[logtriage pack] error: ${msg}\n`);
  process.exit(1);
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const rootPkg = readJson(join(root, 'package.json'));

function npmPack(dir, extra = []) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = spawnSync(npm, ['pack', '--json', '--ignore-scripts', ...extra], { cwd: dir, encoding: 'utf8', shell: process.platform === 'win32' });
  if (res.status !== 0) fail(`npm pack in ${dir} failed: ${res.stderr}`);
  return JSON.parse(res.stdout)[0];
}

function summary(info, outDir) {
  return { name: info.name, version: info.version, tarball: join(outDir, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.entryCount };
}

/** The TypeScript compiled into --dist (what --main ships). */
function compileTypeScript() {
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', resolve(args.dist)], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (tsc.status !== 0) fail('tsc failed; its output is above');
}

/** Builds the addon for a platform into <out>/build/<platform> with that platform's toolchain; returns the Release folder. */
function buildPlatform(platform, outDir) {
  if (!PLATFORMS[platform]) fail(`unknown platform ${platform} (one of ${Object.keys(PLATFORMS).join(', ')})`);
  let env;
  try {
    env = prepareToolchain(platform, cacheRoot());
  } catch (err) {
    fail(`${platform}: ${err.message}`);
  }
  // A build is reused while nothing that goes into it changed (the test suite packs every run).
  const buildDir = join(cacheRoot(), 'cross', 'build', `${platform}-${buildKey(platform, env)}`);
  const release = join(buildDir, 'Release');
  if (!args.rebuild && existsSync(join(buildDir, '.complete'))) {
    buildSeconds[platform] = 'reused';
    return release;
  }
  rmSync(buildDir, { recursive: true, force: true });
  const started = Date.now();
  const res = spawnSync(process.execPath, [join(root, 'scripts', 'build', 'build-native.mjs'), '--platform', platform, '--out', buildDir], {
    cwd: root,
    env: { ...process.env, ...env },
    // cmake-js prints its progress on stdout; ours is the JSON summary.
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  if (res.status !== 0) fail(`building ${platform} failed:\n${res.stdout}`);
  buildSeconds[platform] = Number(((Date.now() - started) / 1000).toFixed(1));
  writeFileSync(join(buildDir, '.complete'), `${new Date().toISOString()}\n`);
  return release;
}

/** A hash of everything a platform's addon build reads: our C++ and build files, versions, the toolchain. */
function buildKey(platform, env) {
  const hash = createHash('sha256').update(JSON.stringify({ platform, env, node: process.version }));
  const files = ['CMakeLists.txt', 'package.json', 'scripts/build/build-native.mjs', 'scripts/build/platforms.mjs', 'scripts/build/cross/toolchains.mjs', 'node_modules/node-addon-api/package.json'];
  const native = readdirSync(join(root, 'native'), { recursive: true }).map((f) => join('native', f)).filter((f) => /\.(cc|h)$/.test(f)).sort();
  for (const file of [...files, ...native]) hash.update(file).update(readFileSync(join(root, file)));
  return hash.digest('hex').slice(0, 16);
}

const buildSeconds = {};

/** The llama.cpp checkout build-native.mjs unpacked from node-llama-cpp's bundle, with its commit. */
function llamaCheckout() {
  const cache = cacheRoot();
  const nlcDir = join(root, 'node_modules', 'node-llama-cpp');
  if (!existsSync(nlcDir)) fail('node-llama-cpp (dev dependency) is not installed: run `npm install`');
  const { release } = readJson(join(nlcDir, 'llama', 'binariesGithubRelease.json'));
  const dir = join(cache, 'llama.cpp', `${NODE_LLAMA_CPP_VERSION}-${release}`);
  if (!existsSync(join(dir, 'include', 'llama.h'))) fail(`${dir} is missing: run \`npm run build:native\` first (it unpacks llama.cpp)`);
  const head = spawnSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  if (head.status !== 0) fail(`cannot read the llama.cpp commit in ${dir}: ${head.stderr}`);
  return { dir, release, commit: head.stdout.trim() };
}

function packMain(outDir) {
  const stage = join(outDir, 'stage', 'logtriage');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const dist = resolve(args.dist);
  if (!existsSync(join(dist, 'index.js'))) fail(`${dist} holds no compiled TypeScript: run \`npm run build\` first`);
  for (const file of npmPack(root, ['--dry-run']).files) {
    if (file.path === 'package.json' || file.path.startsWith('dist/')) continue;
    mkdirSync(dirname(join(stage, file.path)), { recursive: true });
    copyFileSync(join(root, file.path), join(stage, file.path));
  }
  cpSync(dist, join(stage, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  // The headers a from-source addon build compiles against (about 350 KB), so it needs no git.
  const llama = llamaCheckout();
  for (const sub of ['include', join('ggml', 'include')]) cpSync(join(llama.dir, sub), join(stage, 'llama-headers', sub), { recursive: true });
  copyFileSync(join(llama.dir, 'LICENSE'), join(stage, 'llama-headers', 'LICENSE'));
  writeFileSync(join(stage, 'llama-headers', 'llama.cpp.json'), `${JSON.stringify({ repo: 'ggml-org/llama.cpp', release: llama.release, commit: llama.commit }, null, 2)}\n`);

  const { devDependencies: _dev, scripts: _scripts, ...published } = rootPkg;
  const pkg = {
    ...published,
    scripts: { 'build:native': 'node scripts/build/build-native.mjs' },
    files: [...rootPkg.files, 'llama-headers'],
    optionalDependencies: Object.fromEntries(Object.keys(PLATFORMS).map((p) => [`@logtriage/${p}`, rootPkg.version])),
  };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  return summary(npmPack(stage, ['--pack-destination', outDir]), outDir);
}

function packPlatform(platform, addonDir, outDir) {
  if (!PLATFORMS[platform]) fail(`unknown platform ${platform} (one of ${Object.keys(PLATFORMS).join(', ')})`);
  const template = join(root, 'npm', platform);
  const pkg = readJson(join(template, 'package.json'));
  if (pkg.version !== rootPkg.version) fail(`npm/${platform}/package.json is ${pkg.version}, logtriage is ${rootPkg.version}`);
  const manifestPath = join(addonDir, 'logtriage-build.json');
  if (!existsSync(join(addonDir, 'logtriage.node')) || !existsSync(manifestPath)) fail(`${addonDir} holds no built addon: run \`npm run build:native\``);
  const manifest = readJson(manifestPath);
  if (!manifest.llamaCpp?.commit) fail(`${manifestPath} predates the release manifest: rebuild with \`npm run build:native\``);
  if (manifest.platform !== platform) fail(`${addonDir} was built for ${manifest.platform}, not ${platform}`);
  if (manifest.sanitize) fail(`${addonDir} is a sanitizer build: not for release`);

  const stage = join(outDir, 'stage', platform);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'lib'), { recursive: true });
  const libs = readdirSync(addonDir).filter(isRuntimeLibrary);
  for (const name of ['logtriage.node', 'logtriage-build.json', ...libs]) copyFileSync(join(addonDir, name), join(stage, 'lib', name));
  copyFileSync(join(template, 'package.json'), join(stage, 'package.json'));
  copyFileSync(join(template, 'README.md'), join(stage, 'README.md'));
  const nlcLicense = readFileSync(join(root, 'node_modules', 'node-llama-cpp', 'LICENSE'), 'utf8');
  const llamaLicense = readFileSync(join(llamaCheckout().dir, 'LICENSE'), 'utf8');
  writeFileSync(join(stage, 'LICENSE'), [
    `logtriage: MIT License (see the logtriage package).`,
    `\nlib/*ggml*, lib/*llama* are llama.cpp (${manifest.llamaCpp.repo} ${manifest.llamaCpp.commit}), as built by node-llama-cpp ${NODE_LLAMA_CPP_VERSION}:\n\n${llamaLicense}`,
    `\nnode-llama-cpp:\n\n${nlcLicense}`,
  ].join('\n'));
  return summary(npmPack(stage, ['--pack-destination', outDir]), outDir);
}

const outDir = resolve(args.out);
mkdirSync(outDir, { recursive: true });
const platforms = args.all ? Object.keys(PLATFORMS) : (args.platform?.split(',').filter(Boolean) ?? []);
const build = args.all || args.build;
if (platforms.length > 1 && !build) fail('several platforms are packed from their own builds: add --build');
const packed = [];
if (args.all) compileTypeScript();
// Platforms first: their builds unpack the llama.cpp headers the main package ships.
for (const platform of platforms) {
  const addonDir = build ? buildPlatform(platform, outDir) : resolve(args['addon-dir']);
  packed.push({ ...packPlatform(platform, addonDir, outDir), ...(build ? { buildSeconds: buildSeconds[platform] } : {}) });
}
if (args.main || args.all) packed.unshift(packMain(outDir));
if (packed.length === 0) fail('nothing to pack: pass --all, --main and/or --platform <platform>');
process.stdout.write(`${JSON.stringify(packed, null, 2)}\n`);
