#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Packs the release tarballs into --out (default packages/):
//   --main                     logtriage: dist, bin, docs, the addon's C++ and CMakeLists.txt, the
//                              llama.cpp / ggml public headers (llama-headers/, generated here, never
//                              committed) and the @logtriage/<platform> packages as exact-version
//                              optional dependencies. No install script, no devDependencies.
//   --platform <p> [--addon-dir build/Release]
//                              @logtriage/<p> from npm/<p>/: lib/logtriage.node, the llama/ggml
//                              libraries it links (copied next to it by build-native.mjs) and
//                              lib/logtriage-build.json (versions, llama.cpp commit, CPU/GPU variants).
// Run `npm run build` and `npm run build:native` first. Prints a JSON summary (files, sizes).
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NODE_LLAMA_CPP_VERSION, PLATFORMS, isRuntimeLibrary } from './platforms.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    main: { type: 'boolean', default: false },
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

/** The llama.cpp checkout build-native.mjs unpacked from node-llama-cpp's bundle, with its commit. */
function llamaCheckout() {
  const cache = process.env.LOGTRIAGE_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'logtriage');
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
    scripts: { 'build:native': 'node scripts/build-native.mjs' },
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
const packed = [];
if (args.main) packed.push(packMain(outDir));
if (args.platform) packed.push(packPlatform(args.platform, resolve(args['addon-dir']), outDir));
if (packed.length === 0) fail('nothing to pack: pass --main and/or --platform <platform>');
process.stdout.write(`${JSON.stringify(packed, null, 2)}\n`);
