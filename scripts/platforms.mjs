// SPDX-License-Identifier: MIT
// The platforms logtriage ships prebuilt, and where each one's llama.cpp libraries come from:
// the node-llama-cpp 3.21.1 CPU package (Metal included on Apple Silicon) the addon links against.
// Used by build-native.mjs (developer and from-source builds) and pack-packages.mjs (releases).
export const NODE_LLAMA_CPP_VERSION = '3.21.1';

/** `${process.platform}-${process.arch}` → the node-llama-cpp package holding its libraries. */
export const PLATFORMS = {
  'linux-x64': { nlcPackage: 'linux-x64', libc: 'glibc' },
  'linux-arm64': { nlcPackage: 'linux-arm64', libc: 'glibc' },
  'darwin-arm64': { nlcPackage: 'mac-arm64-metal' },
  'darwin-x64': { nlcPackage: 'mac-x64' },
  'win32-x64': { nlcPackage: 'win-x64' },
};


/** The llama/ggml libraries the addon needs at run time (not node-llama-cpp's own addon or libllama-common). */
export function isRuntimeLibrary(name) {
  if (name.includes('llama-common') || name.endsWith('.node') || name.endsWith('.json')) return false;
  return /\.(so(\.\d+)*|dylib|dll|metal)$/.test(name);
}
