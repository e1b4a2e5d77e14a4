// SPDX-License-Identifier: MIT
// The loader's order and its one error: platform, what was tried, the fixes.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FROM_SOURCE_COMMAND, loadBinding, PREBUILT_PLATFORMS, runtimePlatform } from '../../../src/engine/binding.js';
import { NativeAddonError } from '../../../src/index.js';
import { artifactsDir, repoRoot } from '../../fixtures/index.js';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('loadBinding()', () => {
  it('loads the built addon with the pinned llama.cpp release and a CPU device', () => {
    const binding = loadBinding();
    expect(binding.llamaRelease).toBe('v0.4.0');
    expect(binding.devices().some((d) => d.type === 'cpu')).toBe(true);
  });

  it('a missing addon → NativeAddonError naming the platform, what was tried and both fixes', () => {
    const missing = join(artifactsDir, 'does-not-exist.node');
    const err = thrown(() => loadBinding(missing));
    expect(err).toBeInstanceOf(NativeAddonError);
    expect((err as NativeAddonError).code).toBe('ERR_NATIVE_ADDON');
    expect(err.message).toContain(`on ${runtimePlatform().key}`);
    expect(err.message).toContain(`nativeBinding=${missing} (no such file)`);
    expect(err.message).toContain('npm install --include=optional logtriage');
    expect(err.message).toContain(FROM_SOURCE_COMMAND);
    expect(err.message).toMatch(/cmake >= 3\.15, a C\+\+17 compiler/);
    expect(err.message).not.toContain('\n');
  });

  it('an addon built for another platform or ABI → NativeAddonError saying so, with the cause', () => {
    mkdirSync(artifactsDir, { recursive: true });
    const foreign = join(artifactsDir, 'foreign.node');
    writeFileSync(foreign, Buffer.from('MZ this is not an ELF shared object'));
    const err = thrown(() => loadBinding(foreign));
    expect(err).toBeInstanceOf(NativeAddonError);
    expect(err.message).toMatch(/was built for another platform or Node\.js ABI/);
    expect((err as NativeAddonError).cause).toBeInstanceOf(Error);
  });
});

describe('prebuilt platform packages', () => {
  const folders = readdirSync(join(repoRoot, 'npm'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

  it('npm/ has one folder per platform the loader knows', () => {
    expect(folders).toHaveLength(5);
    expect(folders).toEqual([...PREBUILT_PLATFORMS]);
  });

  it.each(folders)('npm/%s/package.json: name, version, os/cpu/libc match the folder', (platform) => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'npm', platform, 'package.json'), 'utf8'));
    const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const [os, cpu] = platform.split('-');
    expect(pkg.name).toBe(`@logtriage/${platform}`);
    expect(pkg.version).toBe(root.version);
    expect(pkg.os).toEqual([os]);
    expect(pkg.cpu).toEqual([cpu]);
    expect(pkg.libc).toEqual(os === 'linux' ? ['glibc'] : undefined);
    expect(pkg.exports['./lib/logtriage.node']).toBe('./lib/logtriage.node');
    expect(pkg.scripts).toBeUndefined();
  });

  it('the main package has no install script and no runtime dependency on node-llama-cpp', () => {
    const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(root.scripts.install).toBeUndefined();
    expect(root.scripts.postinstall).toBeUndefined();
    expect(Object.keys(root.dependencies).filter((d) => /llama|cmake|addon-api/.test(d))).toEqual([]);
    expect(root.devDependencies['node-llama-cpp']).toBe('3.21.1');
  });
});
