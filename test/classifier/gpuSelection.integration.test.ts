// SPDX-License-Identifier: MIT
// GPU backends come from node-llama-cpp's GPU packages and load at run time; on a machine
// without the driver they fail to load, 'auto' falls back to the CPU with one warning, and an
// explicit backend is a BackendError that says why.
import { afterAll, describe, expect, it } from 'vitest';
import { gpuBackendProbes, loadBinding } from '../../src/engine/binding.js';
import { chooseDevice } from '../../src/engine/chooseDevice.js';
import { gpuHardwareLikely } from '../../src/engine/gpuBackends.js';
import { BackendError, LogClassifier } from '../../src/index.js';
import { tinyModel } from '../fixtures/index.js';

describe('GPU backend selection', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  afterAll(() => {
    process.off('warning', onWarning);
  });

  it('probes every GPU package of this platform and records why one did not load', () => {
    const binding = loadBinding();
    const probes = gpuBackendProbes();
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(probes.map((p) => p.backend).sort()).toEqual(['cuda', 'vulkan']);
    }
    const gpuBackends = new Set(binding.devices().filter((d) => d.type !== 'cpu').map((d) => d.backend.toLowerCase()));
    for (const p of probes) {
      if (p.loaded) continue;
      expect(p.error, p.backend).toBeTruthy();
      expect(gpuBackends.has(p.backend), p.backend).toBe(false);
    }
  });

  it("'auto' runs where it can and warns once when a GPU is there but its backend is unusable (silent on GPU-less machines)", async () => {
    // A software device (lavapipe named by GGML_VK_VISIBLE_DEVICES) is listed but never chosen.
    const hasGpu = chooseDevice(loadBinding().devices(), 'auto').device !== undefined;
    const failed = gpuBackendProbes().some((p) => !p.loaded && p.error !== 'not installed' && gpuHardwareLikely(p.backend));
    for (let i = 0; i < 2; i++) {
      const clf = await LogClassifier.open(tinyModel('f32'), { threads: 2 });
      expect(clf.info.backend === 'CPU').toBe(!hasGpu);
      expect((await clf.classify('kernel: eth0 link up')).label).toBeTruthy();
      await clf.dispose();
    }
    await new Promise((r) => setImmediate(r));
    const fallbacks = warnings.filter((w) => (w as Error & { code?: string }).code === 'LOGTRIAGE_GPU_FALLBACK');
    expect(fallbacks).toHaveLength(!hasGpu && failed ? 1 : 0);
  });

  it('an explicit backend that did not load is a BackendError naming why', async () => {
    const probe = gpuBackendProbes().find((p) => !p.loaded && p.error !== 'not installed');
    if (!probe) return expect(gpuBackendProbes().every((p) => p.loaded || p.error === 'not installed')).toBe(true);
    const err = await LogClassifier.open(tinyModel('f32'), { gpu: probe.backend as 'cuda' }).catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err.message).toContain(`${probe.backend}: `);
    expect(err.message).toContain(probe.error!.slice(0, 40));
  });
});
