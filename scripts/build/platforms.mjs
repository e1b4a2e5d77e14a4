// SPDX-License-Identifier: MIT
// The platforms logtriage ships prebuilt, and where each one's llama.cpp libraries come from:
// the node-llama-cpp CPU package (NODE_LLAMA_CPP_VERSION below) (Metal included on Apple Silicon) the addon links against.
// Used by build-native.mjs (developer and from-source builds) and pack-packages.mjs (releases).
import { homedir } from 'node:os';
import { join } from 'node:path';

export const NODE_LLAMA_CPP_VERSION = '3.21.1';

/** `${process.platform}-${process.arch}` → the node-llama-cpp package holding its libraries. */
export const PLATFORMS = {
  'linux-x64': { nlcPackage: 'linux-x64', libc: 'glibc' },
  'linux-arm64': { nlcPackage: 'linux-arm64', libc: 'glibc' },
  'darwin-arm64': { nlcPackage: 'mac-arm64-metal' },
  'darwin-x64': { nlcPackage: 'mac-x64' },
  'win32-x64': { nlcPackage: 'win-x64' },
};

/**
 * How each platform's addon is cross-compiled from a Linux x64 machine. The compiler is a Debian
 * package's (`debian`), or a `zig c++ -target <zigTarget>` wrapper that scripts/build/cross/toolchains.mjs
 * writes (zig from npm); CXX_<platform> overrides either. Windows needs mingw-w64's posix flavour
 * (node-addon-api uses std::mutex). minOS is the OS floor the build manifest records: macOS 14 is
 * node-llama-cpp's dylibs' own LC_BUILD_VERSION minos.
 */
export const CROSS_TARGETS = {
  'linux-arm64': { system: 'Linux', processor: 'aarch64', cxx: 'aarch64-linux-gnu-g++', debian: 'g++-aarch64-linux-gnu' },
  'win32-x64': { system: 'Windows', processor: 'AMD64', cxx: 'x86_64-w64-mingw32-g++-posix', debian: 'g++-mingw-w64-x86-64-posix', minOS: 'Windows 10' },
  'darwin-arm64': { system: 'Darwin', processor: 'arm64', zigTarget: 'aarch64-macos.14.0', minOS: 'macOS 14.0' },
  'darwin-x64': { system: 'Darwin', processor: 'x86_64', zigTarget: 'x86_64-macos.14.0', minOS: 'macOS 14.0' },
};

/** Where logtriage caches what it builds and fetches: LOGTRIAGE_CACHE_DIR, else $XDG_CACHE_HOME/logtriage or ~/.cache/logtriage. */
export function cacheRoot() {
  if (process.env.LOGTRIAGE_CACHE_DIR) return process.env.LOGTRIAGE_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'logtriage');
}

/** The llama/ggml libraries the addon needs at run time (not node-llama-cpp's own addon or libllama-common). */
export function isRuntimeLibrary(name) {
  if (name.includes('llama-common') || name.endsWith('.node') || name.endsWith('.json')) return false;
  return /\.(so(\.\d+)*|dylib|dll|metal)$/.test(name);
}
