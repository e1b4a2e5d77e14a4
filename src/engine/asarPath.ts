// SPDX-License-Identifier: MIT
// Electron packs an app into app.asar, a virtual archive: JS reads from it, but the OS loader
// cannot dlopen a .node or a shared library inside it. electron-builder / Forge put such files
// (asarUnpack) in app.asar.unpacked beside it, so native paths are redirected there.
import { existsSync } from 'node:fs';
import { sep } from 'node:path';

const ASAR = `${sep}app.asar${sep}`;
const UNPACKED = `${sep}app.asar.unpacked${sep}`;

/**
 * `path` with its `app.asar` segment replaced by `app.asar.unpacked` when that unpacked file
 * exists; otherwise `path` itself (outside Electron, or not unpacked: the load error then names it).
 */
export function unpackedAsarPath(path: string, exists: (p: string) => boolean = existsSync): string {
  if (!path.includes(ASAR)) return path;
  const unpacked = path.replace(ASAR, UNPACKED);
  return exists(unpacked) ? unpacked : path;
}
