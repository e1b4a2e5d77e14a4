// SPDX-License-Identifier: MIT
// Finds and loads the native addon (sharp lib/sharp.mjs order): an explicit path
// (LOGTRIAGE_NATIVE_BINDING), then a local build (developers, from-source builds), then the
// prebuilt @logtriage/<platform>-<arch> package. The llama/ggml libraries and backends sit next
// to whichever addon loads. When none loads, one error names the platform, what was tried and
// the fixes.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unpackedAsarPath } from './asarPath.js';
import { NativeAddonError } from '../errors.js';
import { gpuHardwareLikely, loadGpuBackends, type GpuBackendProbe } from './gpuBackends.js';
import { wrapBinding, type NativeBinding } from './native.js';
import type { ResolvedOpenOptions } from '../options.js';
import type { MachineFacts } from './runtimePlan.js';

/**
 * The folder of logtriage's package.json, found upward from this module: it sits two levels deep
 * in dist/ and src/, but one level deep when a script bundles it (the benchmarks, the GPU check).
 */
function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'logtriage') return dir;
    } catch {
      // no package.json here, or not JSON: keep going up
    }
    if (dirname(dir) === dir) return resolve(from, '..', '..');
  }
}

/** logtriage's package folder: where a local build and package.json are. */
export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
const nodeRequire = createRequire(import.meta.url);

/** Platforms with a prebuilt package (npm/<platform>/ in the repo; a unit test keeps them equal). */
export const PREBUILT_PLATFORMS = ['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64', 'win32-x64'] as const;

export const FROM_SOURCE_COMMAND = 'npm explore logtriage -- npm run build:native';
const FROM_SOURCE_NEEDS = 'cmake >= 3.15, a C++17 compiler, and `npm install --no-save cmake-js@8.0.0 node-addon-api@8.9.2`';

interface Loaded {
  raw: NativeBinding;
  wrapped: NativeBinding;
}

let cached: Loaded | undefined;
let gpuProbes: GpuBackendProbe[] | undefined;

/**
 * What loading each installed GPU backend gave. The first call loads them (and the addon), once
 * per process: a GPU backend costs start-up time and memory even when nothing runs on it (Vulkan
 * with Mesa's software driver maps ~70 MiB), so only what may use a GPU pays for it.
 */
export function gpuBackendProbes(binding: NativeBinding = loadBinding()): readonly GpuBackendProbe[] {
  return (gpuProbes ??= loadGpuBackends(binding));
}

/** Whether the GPU backends have been loaded (gpuBackendProbes). */
export function gpuBackendsLoaded(): boolean {
  return gpuProbes !== undefined;
}

/** The devices and backends a run-time plan chooses from; gpu 'cpu' looks at none, so it loads no GPU backend. */
export function machineFacts(binding: NativeBinding, gpu: ResolvedOpenOptions['gpu']): MachineFacts {
  if (gpu === 'cpu') return { devices: [], backendProbes: [], gpuHardwareLikely };
  return { backendProbes: gpuBackendProbes(binding), devices: binding.devices(), gpuHardwareLikely };
}

interface Candidate {
  /** Where it came from, for the error: the env var, the local build, the platform package. */
  source: string;
  /** The .node file, or undefined when the package holding it is not installed. */
  path?: string;
}

/** `linux-x64`, `linux-x64 (musl)`: musl has no prebuilt package (glibc only, like node-llama-cpp). */
export function runtimePlatform(): { key: string; libc?: 'glibc' | 'musl' } {
  const key = `${process.platform}-${process.arch}`;
  if (process.platform !== 'linux') return { key };
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return { key, libc: header?.glibcVersionRuntime ? 'glibc' : 'musl' };
}

function platformPackageAddon(pkg: string): string | undefined {
  try {
    return join(dirname(nodeRequire.resolve(`${pkg}/package.json`)), 'lib', 'logtriage.node');
  } catch {
    return undefined;
  }
}

function candidates(): Candidate[] {
  const pkg = `@logtriage/${process.platform}-${process.arch}`;
  return [
    { source: 'local build', path: join(packageRoot, 'build', 'Release', 'logtriage.node') },
    { source: 'local debug build', path: join(packageRoot, 'build', 'Debug', 'logtriage.node') },
    { source: pkg, path: platformPackageAddon(pkg) },
  ];
}

function loadFailure(path: string, err: Error): string {
  const msg = err.message;
  if (/NODE_MODULE_VERSION|different Node\.js version|invalid ELF|wrong ELF class|file too short|not a valid Win32|mach-o/i.test(msg)) {
    return `${path} was built for another platform or Node.js ABI (${msg.split('\n')[0]})`;
  }
  if (/cannot open shared object|Library not loaded|specified module could not be found/i.test(msg)) {
    return `${path} cannot find its llama.cpp libraries, which must sit next to it (${msg.split('\n')[0]})`;
  }
  if (/GLIBC_|GLIBCXX_|CXXABI_/.test(msg)) return `${path} needs a newer C/C++ runtime than this system has (${msg.split('\n')[0]})`;
  return `${path} failed to load (${msg.split('\n')[0]})`;
}

/** The one error for "nothing loaded": the platform, each thing tried and why not, the fixes. */
function notLoadedError(tried: string[], errors: unknown[]): NativeAddonError {
  const { key, libc } = runtimePlatform();
  const where = `${key}${libc ? ` (${libc})` : ''}, Node ${process.version}`;
  const supported = (PREBUILT_PLATFORMS as readonly string[]).includes(key) && libc !== 'musl';
  const fixes = supported
    ? [
        `install the prebuilt package (optional dependencies were skipped?): \`npm install --include=optional logtriage\``,
        `or build from source: \`${FROM_SOURCE_COMMAND}\` (needs ${FROM_SOURCE_NEEDS})`,
      ]
    : [
        `no prebuilt package exists for ${where} (prebuilt: ${PREBUILT_PLATFORMS.join(', ')}; Linux needs glibc)`,
        `build llama.cpp and the addon from source: \`LOGTRIAGE_FROM_SOURCE=1 LOGTRIAGE_LLAMA_SOURCE_DIR=<llama.cpp checkout> ${FROM_SOURCE_COMMAND}\` (needs ${FROM_SOURCE_NEEDS})`,
      ];
  const cause = errors.length > 0 ? { cause: errors.length === 1 ? errors[0] : new AggregateError(errors) } : undefined;
  return new NativeAddonError(
    `The logtriage native addon could not be loaded on ${where}. Tried: ${tried.join('; ')}. Fix: ${fixes.join('; ')}; ` +
      'or set LOGTRIAGE_NATIVE_BINDING to a built logtriage.node.',
    cause,
  );
}

function requireAddon(path: string): Loaded {
  const raw = nodeRequire(path) as NativeBinding;
  const wrapped = wrapBinding(raw);
  wrapped.loadBackends(dirname(path));
  // devices() lists the devices of every installed backend, so it loads the GPU ones first.
  const devices = () => (gpuBackendProbes(wrapped), wrapped.devices());
  return { raw, wrapped: { ...wrapped, devices } };
}

/**
 * Loads the addon once per process (per worker thread) and registers the ggml backends that sit
 * next to it. `override` (a path to a .node file) or LOGTRIAGE_NATIVE_BINDING wins over everything
 * else, and its failure is thrown as is. Every call of the binding it returns maps native failures
 * to typed errors (native.ts wrapBinding).
 */
export function loadBinding(override?: string): NativeBinding {
  return load(override).wrapped;
}

/** The addon as it is, errors with bare native codes: for tests of the addon's own contract. */
export function loadAddon(override?: string): NativeBinding {
  return load(override).raw;
}

function load(override?: string): Loaded {
  if (cached && !override) return cached;
  const explicit = override ?? process.env.LOGTRIAGE_NATIVE_BINDING;
  if (explicit) {
    const path = unpackedAsarPath(resolve(explicit));
    const source = override ? 'nativeBinding' : 'LOGTRIAGE_NATIVE_BINDING';
    if (!existsSync(path)) throw notLoadedError([`${source}=${path} (no such file)`], []);
    let binding: Loaded;
    try {
      binding = requireAddon(path);
    } catch (err) {
      throw notLoadedError([`${source}=${loadFailure(path, err as Error)}`], [err]);
    }
    if (!override) cached = binding;
    return binding;
  }
  const tried: string[] = [];
  const errors: unknown[] = [];
  for (const { source, path: packed } of candidates()) {
    if (!packed) {
      tried.push(`${source} (not installed)`);
      continue;
    }
    const path = unpackedAsarPath(packed);
    if (!existsSync(path)) {
      tried.push(`${source} (${path}: not there)`);
      continue;
    }
    try {
      cached = requireAddon(path);
    } catch (err) {
      tried.push(`${source} (${loadFailure(path, err as Error)})`);
      errors.push(err);
      continue;
    }
    if (errors.length > 0) {
      process.emitWarning(`logtriage loaded its addon from ${source} after: ${tried.join('; ')}`, { code: 'LOGTRIAGE_ADDON_FALLBACK' });
    }
    return cached;
  }
  throw notLoadedError(tried, errors);
}
