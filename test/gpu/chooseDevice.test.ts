// SPDX-License-Identifier: MIT
// The device rule without the native build: ggml's device lists as plain data.
import { describe, expect, it } from 'vitest';
import { chooseDevice, isSoftwareDevice, noDeviceHint } from '../../src/engine/chooseDevice.js';
import type { NativeDevice } from '../../src/engine/native.js';

const device = (name: string, backend: string, type: NativeDevice['type'], description: string): NativeDevice => ({
  name,
  backend,
  type,
  description,
  memoryFree: 0,
  memoryTotal: 0,
});

const cpu = device('CPU', 'CPU', 'cpu', 'AMD EPYC');
const blas = device('BLAS', 'BLAS', 'accel', 'OpenBLAS');
// As ggml lists lavapipe when GGML_VK_VISIBLE_DEVICES names it: type 'gpu', not 'cpu'.
const lavapipe = device('Vulkan0', 'Vulkan', 'gpu', 'llvmpipe (LLVM 15.0.6, 256 bits)');
const radeon = device('Vulkan1', 'Vulkan', 'igpu', 'AMD Radeon Graphics (RADV GFX1103_R1)');
const h200 = device('CUDA0', 'CUDA', 'gpu', 'NVIDIA H200');
const metal = device('MTL0', 'Metal', 'gpu', 'Apple M2');

const chosen = (devices: NativeDevice[], gpu: Parameters<typeof chooseDevice>[1]) => chooseDevice(devices, gpu).device?.name;

describe('isSoftwareDevice', () => {
  it('knows lavapipe and SwiftShader by their device names, and no hardware GPU', () => {
    expect(isSoftwareDevice(lavapipe)).toBe(true);
    expect(isSoftwareDevice({ description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect([radeon, h200, metal, cpu].filter(isSoftwareDevice)).toHaveLength(0);
  });
});

describe('chooseDevice', () => {
  it("'auto' never chooses a software device: with only lavapipe it stays on the CPU", () => {
    expect(chosen([cpu, lavapipe], 'auto')).toBeUndefined();
    const { verdicts } = chooseDevice([cpu, lavapipe], 'auto');
    expect(verdicts.map((v) => v.chosen)).toEqual([false, false]);
    expect(verdicts[1]!.reason).toMatch(/software Vulkan device.*gpu: 'vulkan' does/);
  });

  it("'auto' takes a hardware GPU beside lavapipe, listed in either order", () => {
    expect(chosen([cpu, lavapipe, radeon], 'auto')).toBe('Vulkan1');
    expect(chosen([cpu, radeon, lavapipe], 'auto')).toBe('Vulkan1');
  });

  it("'auto' prefers CUDA, then Metal, then Vulkan, whatever ggml's order", () => {
    expect(chosen([cpu, radeon, metal, h200], 'auto')).toBe('CUDA0');
    expect(chosen([cpu, radeon, metal], 'auto')).toBe('MTL0');
    const { verdicts } = chooseDevice([cpu, radeon, h200], 'auto');
    expect(verdicts.map((v) => v.reason)).toEqual([
      'the CPU backend: runs every layer not offloaded',
      "CUDA0 (CUDA) comes first in gpu: 'auto' preference",
      "chosen by gpu: 'auto'",
    ]);
  });

  it("an explicit 'vulkan' takes lavapipe when it is the only Vulkan device, a hardware one before it otherwise", () => {
    expect(chosen([cpu, lavapipe], 'vulkan')).toBe('Vulkan0');
    expect(chosen([cpu, lavapipe, radeon], 'vulkan')).toBe('Vulkan1');
    expect(chosen([cpu, h200, lavapipe], 'vulkan')).toBe('Vulkan0');
  });

  it('an explicit backend with no device of its own chooses nothing (the caller throws)', () => {
    expect(chosen([cpu, lavapipe], 'cuda')).toBeUndefined();
    expect(chosen([cpu, h200], 'metal')).toBeUndefined();
  });

  it("'cpu' and non-GPU devices never offload", () => {
    const { device: none, verdicts } = chooseDevice([cpu, blas, h200], 'cpu');
    expect(none).toBeUndefined();
    expect(verdicts.map((v) => v.reason)).toEqual([
      'the CPU backend: runs every layer not offloaded',
      'not a GPU (type accel): layers are offloaded to GPUs only',
      "gpu: 'cpu' never offloads",
    ]);
    expect(chosen([cpu, blas], 'auto')).toBeUndefined();
  });
});

describe('noDeviceHint', () => {
  it('names GGML_VK_VISIBLE_DEVICES for a Vulkan backend with no device, unless it is already set', () => {
    expect(noDeviceHint('vulkan', {})).toContain('GGML_VK_VISIBLE_DEVICES');
    expect(noDeviceHint('Vulkan', { GGML_VK_VISIBLE_DEVICES: '0' })).toBeUndefined();
    expect(noDeviceHint('cuda', {})).toBeUndefined();
  });
});
