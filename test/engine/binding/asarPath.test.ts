// SPDX-License-Identifier: MIT
// Electron: native files inside app.asar are loaded from app.asar.unpacked.
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unpackedAsarPath } from '../../../src/engine/asarPath.js';

const app = join(sep, 'opt', 'MyApp', 'resources');
const inAsar = join(app, 'app.asar', 'node_modules', '@logtriage', 'linux-x64', 'lib', 'logtriage.node');
const unpacked = join(app, 'app.asar.unpacked', 'node_modules', '@logtriage', 'linux-x64', 'lib', 'logtriage.node');

describe('unpackedAsarPath()', () => {
  it('maps an app.asar path to app.asar.unpacked when the unpacked file exists', () => {
    const seen: string[] = [];
    expect(unpackedAsarPath(inAsar, (p) => (seen.push(p), true))).toBe(unpacked);
    expect(seen).toEqual([unpacked]);
  });

  it('keeps the path when it was not unpacked (the load error then names it)', () => {
    expect(unpackedAsarPath(inAsar, () => false)).toBe(inAsar);
  });

  it('leaves paths outside an asar archive alone, and does not mistake app.asar.unpacked or my-app.asar', () => {
    const probe = () => {
      throw new Error('must not probe');
    };
    expect(unpackedAsarPath(join(sep, 'srv', 'node_modules', 'logtriage', 'build', 'Release', 'logtriage.node'), probe)).toMatch(/Release/);
    expect(unpackedAsarPath(unpacked, probe)).toBe(unpacked);
    expect(unpackedAsarPath(join(app, 'my-app.asar', 'x.node'), probe)).toBe(join(app, 'my-app.asar', 'x.node'));
  });

  it('backend folders map the same way as the addon', () => {
    expect(unpackedAsarPath(join(app, 'app.asar', 'node_modules', '@node-llama-cpp', 'linux-x64-vulkan'), () => true)).toBe(
      join(app, 'app.asar.unpacked', 'node_modules', '@node-llama-cpp', 'linux-x64-vulkan'),
    );
  });
});
