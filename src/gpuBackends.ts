// SPDX-License-Identifier: MIT
// GPU backends from node-llama-cpp 3.21.1's GPU packages (optional dependencies). Their
// libggml-base is byte-identical to the CPU package's that the addon links, so the addon stays
// one binary per platform and each GPU backend library is loaded into ggml's registry at run
// time. A backend whose driver or runtime is missing fails to load; that is recorded, not thrown.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { NativeBinding } from './native.js';

export interface GpuBackendCandidate {
  backend: 'cuda' | 'vulkan';
  /** npm package that ships it, and the library's path inside, most preferred first. */
  files: Array<{ pkg: string; path: string }>;
}

export interface GpuBackendProbe {
  backend: string;
  /** The library tried last (or the packages looked for, when none is installed). */
  path: string;
  loaded: boolean;
  error?: string;
}

const require = createRequire(import.meta.url);

// macOS arm64 needs no entry: its package (mac-arm64-metal) is the one the addon links, and the
// Metal backend loads with the CPU ones from the addon's own folder.
const CANDIDATES: Record<string, GpuBackendCandidate[]> = {
  'linux-x64': [
    {
      backend: 'cuda',
      files: [
        { pkg: '@node-llama-cpp/linux-x64-cuda', path: 'bins/linux-x64-cuda/libggml-cuda.so' },
        // Built against CUDA 12 for drivers the main (CUDA 13) build cannot use.
        { pkg: '@node-llama-cpp/linux-x64-cuda-ext', path: 'bins/linux-x64-cuda/fallback/libggml-cuda.so' },
      ],
    },
    { backend: 'vulkan', files: [{ pkg: '@node-llama-cpp/linux-x64-vulkan', path: 'bins/linux-x64-vulkan/libggml-vulkan.so' }] },
  ],
  'win32-x64': [
    {
      backend: 'cuda',
      files: [
        { pkg: '@node-llama-cpp/win-x64-cuda', path: 'bins/win-x64-cuda/ggml-cuda.dll' },
        { pkg: '@node-llama-cpp/win-x64-cuda-ext', path: 'bins/win-x64-cuda/fallback/ggml-cuda.dll' },
      ],
    },
    { backend: 'vulkan', files: [{ pkg: '@node-llama-cpp/win-x64-vulkan', path: 'bins/win-x64-vulkan/ggml-vulkan.dll' }] },
  ],
};

/** The folder of an installed package (their `exports` hide package.json from require.resolve). */
function packageDir(pkg: string): string | undefined {
  for (const base of require.resolve.paths(pkg) ?? []) {
    const dir = join(base, pkg);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return undefined;
}

/**
 * Whether this machine looks like it has hardware for `backend`. The GPU packages install on
 * every linux-x64 / win32-x64 machine, so failing to load one is only news where a GPU exists.
 */
export function gpuHardwareLikely(backend: string): boolean {
  if (process.platform !== 'linux') return true;
  if (backend === 'cuda') return existsSync('/proc/driver/nvidia/version');
  return existsSync('/dev/dri');
}

/** The installed library of `backend` that loadGpuBackends tries first, for other programs (llama.cpp's tools) to load. */
export function installedGpuBackendFile(backend: string, platform = `${process.platform}-${process.arch}`): string | undefined {
  for (const candidate of CANDIDATES[platform] ?? []) {
    if (candidate.backend !== backend) continue;
    for (const { pkg, path } of candidate.files) {
      const dir = packageDir(pkg);
      if (dir && existsSync(join(dir, path))) return join(dir, path);
    }
  }
  return undefined;
}

/** Loads every GPU backend installed for this platform; returns what happened to each. */
export function loadGpuBackends(binding: NativeBinding, platform = `${process.platform}-${process.arch}`): GpuBackendProbe[] {
  if (process.env.LOGTRIAGE_GPU_BACKENDS === '0') return [];
  const probes: GpuBackendProbe[] = [];
  for (const candidate of CANDIDATES[platform] ?? []) {
    let probe: GpuBackendProbe = {
      backend: candidate.backend,
      path: candidate.files.map((f) => f.pkg).join(' or '),
      loaded: false,
      error: 'not installed',
    };
    const errors: string[] = [];
    for (const { pkg, path } of candidate.files) {
      const dir = packageDir(pkg);
      if (!dir || !existsSync(join(dir, path))) continue;
      const result = binding.loadBackend(join(dir, path));
      if (!result.loaded) errors.push(result.error ?? `${join(dir, path)} failed to load`);
      probe = { backend: candidate.backend, path: join(dir, path), loaded: result.loaded, ...(result.loaded ? {} : { error: errors.join(' | ') }) };
      if (result.loaded) break;
    }
    probes.push(probe);
  }
  return probes;
}
