// SPDX-License-Identifier: MIT
// Finds and loads the native addon: an explicit override, then the local build. Failures say
// how to fix them (build it, or rebuild for this Node / platform).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeAddonError } from './errors.js';
import { gpuHardwareLikely, loadGpuBackends, type GpuBackendProbe } from './gpuBackends.js';
import { wrapBinding, type NativeBinding } from './native.js';
import type { MachineFacts } from './runtimePlan.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nodeRequire = createRequire(import.meta.url);

let cached: { raw: NativeBinding; wrapped: NativeBinding } | undefined;
let gpuProbes: GpuBackendProbe[] = [];

/** What loading each installed GPU backend gave (empty before the addon is loaded). */
export function gpuBackendProbes(): readonly GpuBackendProbe[] {
  return gpuProbes;
}

/** The devices and backends a run-time plan chooses from. */
export function machineFacts(binding: NativeBinding): MachineFacts {
  return { devices: binding.devices(), backendProbes: gpuProbes, gpuHardwareLikely };
}

function candidates(): string[] {
  const fromEnv = process.env.LOGTRIAGE_NATIVE_BINDING;
  return [
    ...(fromEnv ? [resolve(fromEnv)] : []),
    join(packageRoot, 'build', 'Release', 'logtriage.node'),
    join(packageRoot, 'build', 'Debug', 'logtriage.node'),
  ];
}

function howToFix(path: string, err: Error): string {
  const msg = err.message;
  if (/NODE_MODULE_VERSION|different Node\.js version|invalid ELF|wrong ELF class|file too short|not a valid Win32|mach-o/i.test(msg)) {
    return `The native addon at ${path} was built for another Node.js ABI or platform (${process.platform}-${process.arch}, Node ${process.version}): rebuild it with \`npm run build:native\`.`;
  }
  if (/cannot open shared object|Library not loaded|specified module could not be found/i.test(msg)) {
    return `The native addon at ${path} cannot find its llama.cpp libraries (they are copied next to it at build time): rebuild it with \`npm run build:native\`.`;
  }
  return `The native addon at ${path} failed to load: rebuild it with \`npm run build:native\`.`;
}

/**
 * Loads the addon once per process (per worker thread) and registers the ggml backends that sit
 * next to it. `override` (a path to a .node file) wins over everything else. Every call of the
 * binding it returns maps native failures to typed errors (native.ts wrapBinding).
 */
export function loadBinding(override?: string): NativeBinding {
  return load(override).wrapped;
}

/** The addon as it is, errors with bare native codes: for tests of the addon's own contract. */
export function loadAddon(override?: string): NativeBinding {
  return load(override).raw;
}

function load(override?: string): { raw: NativeBinding; wrapped: NativeBinding } {
  if (cached && !override) return cached;
  const paths = override ? [resolve(override)] : candidates();
  for (const path of paths) {
    if (!existsSync(path)) continue;
    let raw: NativeBinding;
    try {
      raw = nodeRequire(path) as NativeBinding;
    } catch (err) {
      throw new NativeAddonError(`${howToFix(path, err as Error)} (${(err as Error).message})`, { cause: err });
    }
    const loaded = { raw, wrapped: wrapBinding(raw) };
    loaded.wrapped.loadBackends(dirname(path));
    gpuProbes = loadGpuBackends(loaded.wrapped);
    if (!override) cached = loaded;
    return loaded;
  }
  throw new NativeAddonError(
    `The logtriage native addon is not built (looked in: ${paths.join(', ')}). ` +
      'Run `npm run build:native` (needs cmake and a C++17 compiler; links the prebuilt llama.cpp of node-llama-cpp 3.21.1), ' +
      'or set LOGTRIAGE_NATIVE_BINDING to a built logtriage.node.',
  );
}
