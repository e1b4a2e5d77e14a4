// SPDX-License-Identifier: MIT
// Which ggml device a classifier offloads to, as a pure rule over the devices ggml lists, with
// the reason for each device not chosen (shown by `logtriage info --devices`).
import type { NativeDevice } from './native.js';
import type { GPU_CHOICES } from '../options.js';

export type GpuChoice = (typeof GPU_CHOICES)[number];

/** Preferred first when several GPU backends are usable. */
export const BACKEND_PREFERENCE = ['cuda', 'metal', 'vulkan'];

// Vulkan implementations that run on the CPU but may present themselves to ggml as GPUs:
// Mesa's lavapipe (device name "llvmpipe (LLVM …)") and Google's SwiftShader. ggml's Vulkan
// backend lists them only when GGML_VK_VISIBLE_DEVICES names them, and then as type 'gpu'.
const SOFTWARE_DEVICE = /\b(llvmpipe|lavapipe|softpipe|swiftshader)\b/i;

export function isSoftwareDevice(device: Pick<NativeDevice, 'description'>): boolean {
  return SOFTWARE_DEVICE.test(device.description);
}

export interface DeviceVerdict {
  name: string;
  backend: string;
  chosen: boolean;
  /** Why it was or was not chosen, for people. */
  reason: string;
}

export interface DeviceChoice {
  /** The device to offload to; undefined: the CPU backend runs everything. */
  device: NativeDevice | undefined;
  verdicts: DeviceVerdict[];
}

const backendOf = (d: NativeDevice) => d.backend.toLowerCase();

function preference(d: NativeDevice): number {
  const i = BACKEND_PREFERENCE.indexOf(backendOf(d));
  // Hardware before software within a backend: an explicit backend takes lavapipe only when it is all there is.
  return (i < 0 ? BACKEND_PREFERENCE.length : i) * 2 + (isSoftwareDevice(d) ? 1 : 0);
}

/**
 * The device `gpu` asks for among `devices`: 'auto' takes the most preferred hardware GPU
 * (CUDA, Metal, Vulkan) and never a software device, which would be slower than the CPU backend
 * it emulates a GPU on; an explicit backend takes its hardware device, else its software one.
 */
export function chooseDevice(devices: readonly NativeDevice[], gpu: GpuChoice): DeviceChoice {
  const gpus = devices.filter((d) => d.type === 'gpu' || d.type === 'igpu');
  const eligible = gpus
    .filter((d) => (gpu === 'auto' ? !isSoftwareDevice(d) : backendOf(d) === gpu))
    .sort((a, b) => preference(a) - preference(b));
  const device = gpu === 'cpu' ? undefined : eligible[0];

  const verdicts = devices.map((d): DeviceVerdict => {
    const verdict = (chosen: boolean, reason: string) => ({ name: d.name, backend: d.backend, chosen, reason });
    if (d === device) return verdict(true, `chosen by gpu: '${gpu}'`);
    if (d.type === 'cpu') return verdict(false, 'the CPU backend: runs every layer not offloaded');
    if (!gpus.includes(d)) return verdict(false, `not a GPU (type ${d.type}): layers are offloaded to GPUs only`);
    if (gpu === 'cpu') return verdict(false, "gpu: 'cpu' never offloads");
    if (gpu === 'auto' && isSoftwareDevice(d)) {
      return verdict(false, `a software ${d.backend} device (it runs on the CPU): gpu: 'auto' never chooses one; gpu: '${backendOf(d)}' does`);
    }
    if (gpu !== 'auto' && backendOf(d) !== gpu) return verdict(false, `gpu: '${gpu}' asks for another backend`);
    return verdict(false, `${device!.name} (${device!.backend}) comes first in gpu: '${gpu}' preference`);
  });
  return { device, verdicts };
}

/**
 * Why a backend that loaded lists no device, where ggml's rule is known: its Vulkan backend
 * lists only discrete and integrated GPUs unless GGML_VK_VISIBLE_DEVICES names devices.
 */
export function noDeviceHint(backend: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (backend.toLowerCase() !== 'vulkan' || env.GGML_VK_VISIBLE_DEVICES !== undefined) return undefined;
  return 'ggml lists only hardware Vulkan GPUs; a software device such as lavapipe appears only when GGML_VK_VISIBLE_DEVICES names its index';
}
