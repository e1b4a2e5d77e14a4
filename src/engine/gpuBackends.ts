// SPDX-License-Identifier: MIT
// GPU backends from node-llama-cpp 3.21.1's GPU packages, which a user adds on purpose (one
// `npm install` each; none is a dependency, so a CPU-only install pulls no CUDA or Vulkan). Their
// libggml-base is byte-identical to the CPU package's that the addon links, so the addon stays
// one binary per platform and each GPU backend library is loaded into ggml's registry at run
// time. A backend whose driver or runtime is missing fails to load; that is recorded, not thrown.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { unpackedAsarPath } from './asarPath.js';
import type { NativeBinding } from './native.js';

/** The node-llama-cpp release whose libraries the addon links; a GPU package must be this version. */
export const NODE_LLAMA_CPP_VERSION = '3.21.1';

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
  /** The command that adds this backend, e.g. `npm install @node-llama-cpp/linux-x64-vulkan@3.21.1`. */
  install: string;
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

/**
 * The folder of an installed package (their `exports` hide package.json from require.resolve):
 * where Node would resolve it from logtriage, then from the working directory's project, which
 * is where a user who runs a global or npx logtriage adds the GPU package.
 */
function packageDir(pkg: string): string | undefined {
  const fromCwd = createRequire(join(process.cwd(), 'package.json'));
  for (const base of [...(require.resolve.paths(pkg) ?? []), ...(fromCwd.resolve.paths(pkg) ?? [])]) {
    const dir = join(base, pkg);
    if (existsSync(join(dir, 'package.json'))) return unpackedAsarPath(dir);
  }
  return undefined;
}

function packageVersion(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Whether this machine looks like it has hardware for `backend`. A GPU package can be present
 * without the hardware (an image built elsewhere, a shared lockfile), so failing to load one is
 * only news where a GPU exists; a missing one is worth suggesting only there.
 */
export function gpuHardwareLikely(backend: string): boolean {
  if (process.platform !== 'linux') return true;
  if (backend === 'cuda') return existsSync('/proc/driver/nvidia/version');
  return existsSync('/dev/dri');
}

/** For `info --devices`: the package to add when this machine has a GPU its backend is missing for. */
export function gpuBackendHint(probe: GpuBackendProbe): string {
  if (probe.loaded || probe.error !== 'not installed' || !gpuHardwareLikely(probe.backend)) return '';
  return `; this machine seems to have a ${probe.backend === 'cuda' ? 'NVIDIA GPU' : 'GPU'}: add it with \`${probe.install}\``;
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
    const install = `npm install ${candidate.files[0]!.pkg}@${NODE_LLAMA_CPP_VERSION}`;
    let probe: GpuBackendProbe = {
      backend: candidate.backend,
      path: candidate.files.map((f) => f.pkg).join(' or '),
      loaded: false,
      error: 'not installed',
      install,
    };
    const errors: string[] = [];
    for (const { pkg, path } of candidate.files) {
      const dir = packageDir(pkg);
      if (!dir || !existsSync(join(dir, path))) continue;
      const version = packageVersion(dir);
      if (version !== NODE_LLAMA_CPP_VERSION) {
        // Another release's backend would load against our libggml-base with a different ABI.
        errors.push(`${pkg}@${version ?? '?'} found, ${NODE_LLAMA_CPP_VERSION} required`);
        probe = { backend: candidate.backend, path: join(dir, path), loaded: false, error: errors.join(' | '), install };
        continue;
      }
      const result = binding.loadBackend(join(dir, path));
      if (!result.loaded) errors.push(result.error ?? `${join(dir, path)} failed to load`);
      probe = { backend: candidate.backend, path: join(dir, path), loaded: result.loaded, ...(result.loaded ? {} : { error: errors.join(' | ') }), install };
      if (result.loaded) break;
    }
    probes.push(probe);
  }
  return probes;
}
