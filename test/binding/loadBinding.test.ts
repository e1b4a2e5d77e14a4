// SPDX-License-Identifier: MIT
// A missing or foreign addon gives an error that says how to fix it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBinding } from '../../src/binding.js';
import { NativeAddonError } from '../../src/index.js';
import { artifactsDir } from '../fixtures/index.js';

describe('loadBinding()', () => {
  it('loads the built addon with the pinned llama.cpp release and a CPU device', () => {
    const binding = loadBinding();
    expect(binding.llamaRelease).toBe('v0.4.0');
    expect(binding.devices().some((d) => d.type === 'cpu')).toBe(true);
  });

  it('a missing addon → NativeAddonError naming `npm run build:native`', () => {
    const err = (() => {
      try {
        loadBinding(join(artifactsDir, 'does-not-exist.node'));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(NativeAddonError);
    expect((err as Error).message).toMatch(/npm run build:native/);
  });

  it('an addon built for another platform or ABI → NativeAddonError saying to rebuild', () => {
    mkdirSync(artifactsDir, { recursive: true });
    const foreign = join(artifactsDir, 'foreign.node');
    writeFileSync(foreign, Buffer.from('MZ this is not an ELF shared object'));
    expect(() => loadBinding(foreign)).toThrow(NativeAddonError);
    expect(() => loadBinding(foreign)).toThrow(/another Node\.js ABI or platform.*npm run build:native/);
  });
});
