// SPDX-License-Identifier: MIT
// The GPU library that llama.cpp's tools are pointed at (GGML_BACKEND_PATH) in `npm run bench -- --gpu`
// must be the file the addon itself loads: the first installed candidate of the backend's packages.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { installedGpuBackendFile } from '../../../src/engine/gpuBackends.js';

// npm installs the linux-x64 GPU packages (optional dependencies) on linux-x64 only.
describe.runIf(process.platform === 'linux' && process.arch === 'x64')('installedGpuBackendFile on linux-x64', () => {
  it('finds the CUDA 13 package before the CUDA 12 fallback, and the Vulkan package', () => {
    const cuda = installedGpuBackendFile('cuda', 'linux-x64');
    expect(cuda).toMatch(/@node-llama-cpp\/linux-x64-cuda\/bins\/linux-x64-cuda\/libggml-cuda\.so$/);
    expect(existsSync(cuda!)).toBe(true);
    const vulkan = installedGpuBackendFile('vulkan', 'linux-x64');
    expect(vulkan).toMatch(/@node-llama-cpp\/linux-x64-vulkan\/bins\/linux-x64-vulkan\/libggml-vulkan\.so$/);
    expect(existsSync(vulkan!)).toBe(true);
  });
});

describe('installedGpuBackendFile', () => {
  it('is undefined for a backend no package ships for the platform', () => {
    expect(installedGpuBackendFile('metal', 'linux-x64')).toBeUndefined();
    expect(installedGpuBackendFile('cuda', 'darwin-arm64')).toBeUndefined();
    expect(installedGpuBackendFile('cuda', 'linux-riscv64')).toBeUndefined();
  });
});
