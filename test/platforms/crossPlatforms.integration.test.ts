// SPDX-License-Identifier: MIT
// The platforms no machine here runs natively, built here the way a release builds them
// (`npm run pack:packages -- --main --platform win32-x64,darwin-arm64,darwin-x64 --build`):
// - win32-x64 (mingw-w64): installed as a Windows user gets it (npm --os=win32 --cpu=x64) and run
//   under Wine with Node's Windows build: CLI convert/classify/info/verify, the ESM API and
//   require(), the parity model's logits against HF and the Linux build, a renamed host
//   executable (Electron), and the loader's error without the platform package.
// - darwin-arm64 / darwin-x64 (zig): checked statically with llvm-objdump / llvm-nm and a code
//   signature check of our own, since nothing here runs a Mac binary.
// Required under CI=true; elsewhere a missing tool is a visible skip naming it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_WINDOWS, cacheRoot, fetchNpmPackage } from '../../scripts/build/cross/toolchains.mjs';
import { LogClassifier } from '../../src/index.js';
import { expectedCases, repoRoot, tinyCheckpointDir, tinyModel } from '../fixtures/index.js';
import { PINNED_NODE_LLAMA_CPP, pinnedLlamaRelease } from '../helpers/enginePin.js';
import { CS_ADHOC, exportedSymbols, loadCommands, undefinedSymbols, verifyCodeSignature } from '../helpers/macho.js';
import { WinePrefix, findWine, windowsPath } from '../helpers/wine.js';

const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';
const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const wine = findWine();
const missing = [
  ...(wine ? [] : ['wine64 (apt-get install wine64)']),
  ...(onPath('x86_64-w64-mingw32-g++-posix') ? [] : ['x86_64-w64-mingw32-g++-posix (apt-get install g++-mingw-w64-x86-64-posix)']),
  ...(onPath('llvm-objdump') && onPath('llvm-nm') ? [] : ['llvm-objdump and llvm-nm (apt-get install llvm)']),
];
const required = process.env.CI === 'true';
const skip = !onLinuxX64 || (missing.length > 0 && !required);
if (onLinuxX64 && skip) console.warn(`SKIPPED cross-platform packages: missing ${missing.join(', ')} (required under CI=true)`);

const work = skip ? '' : mkdtempSync(join(tmpdir(), 'logtriage-cross-'));
const CROSS_PLATFORMS = ['win32-x64', 'darwin-arm64', 'darwin-x64'] as const;
type CrossPlatform = (typeof CROSS_PLATFORMS)[number];
const SLOW = 900_000;

interface Packed {
  name: string;
  tarball: string;
  buildSeconds?: number | 'reused';
}
let packed: Packed[] = [];
const tarball = (name: string) => packed.find((p) => p.name === name)!.tarball;

/** Unpacks a tarball into its own folder; returns the package folder. */
function unpack(file: string): string {
  const dir = join(work, 'unpacked', basename(file, '.tgz'));
  mkdirSync(dir, { recursive: true });
  const tar = spawnSync('tar', ['xzf', file, '-C', dir]);
  expect(tar.status, String(tar.stderr)).toBe(0);
  return join(dir, 'package');
}

/** Plain one-line cases of the HF parity fixture with reference logits (parse mode, as HF tokenizes). */
const parityCases = expectedCases().filter((c) => c.logits !== null && c.hf_newer_pooled_logits === undefined && c.text.trim() && !/[\r\n]/.test(c.text));

describe.skipIf(skip)('packages for the platforms built on this Linux machine', () => {
  beforeAll(() => {
    expect(missing, 'tools the cross-platform packages need').toEqual([]);
    const dist = join(work, 'dist');
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', dist], { cwd: repoRoot, encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    const started = performance.now();
    const pack = spawnSync(process.execPath, ['scripts/build/pack-packages.mjs', '--main', '--platform', CROSS_PLATFORMS.join(','), '--build', '--dist', dist, '--out', join(work, 'packages')], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    expect(pack.status, pack.stderr).toBe(0);
    packed = JSON.parse(pack.stdout);
    console.log(`cross builds and packs: ${((performance.now() - started) / 1000).toFixed(0)} s (${packed.map((p) => `${p.name} ${p.buildSeconds ?? '-'}`).join(', ')})`);
    expect(packed.map((p) => p.name)).toEqual(['logtriage', ...CROSS_PLATFORMS.map((p) => `@logtriage/${p}`)]);
  }, SLOW);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('each build manifest names its toolchain, version and OS floor', () => {
    const expected: Record<CrossPlatform, { toolchain: RegExp; minOS: string }> = {
      'win32-x64': { toolchain: /^Debian g\+\+-mingw-w64-x86-64-posix \d/, minOS: 'Windows 10' },
      'darwin-arm64': { toolchain: /^zig 0\.14\.0-dev\.2456\S* \(npm @ryoppippi\/zig-linux-x64@0\.14\.0-dev\.2456\), target aarch64-macos\.14\.0$/, minOS: 'macOS 14.0' },
      'darwin-x64': { toolchain: /^zig 0\.14\.0-dev\.2456\S* \(npm @ryoppippi\/zig-linux-x64@0\.14\.0-dev\.2456\), target x86_64-macos\.14\.0$/, minOS: 'macOS 14.0' },
    };
    for (const platform of CROSS_PLATFORMS) {
      const manifest = JSON.parse(readFileSync(join(unpack(tarball(`@logtriage/${platform}`)), 'lib', 'logtriage-build.json'), 'utf8'));
      expect(manifest).toMatchObject({ platform, nodeLlamaCpp: PINNED_NODE_LLAMA_CPP, llama: 'prebuilt', llamaCpp: { release: pinnedLlamaRelease() } });
      expect(manifest.builtWith.toolchain, platform).toMatch(expected[platform].toolchain);
      expect(manifest.builtWith.minOS, platform).toBe(expected[platform].minOS);
      expect(manifest.builtWith.compilerVersion, platform).not.toBe('unknown');
    }
  });

  describe('win32-x64 under Wine', () => {
    let prefix: WinePrefix;
    let nodeExe = '';
    let project = '';
    let model = '';
    let linuxLogits: number[][] = [];

    // --os/--cpu pick the optional dependencies a Windows machine gets; --force because npm still
    // checks a tarball named on the command line against this machine's os (EBADPLATFORM).
    const npmInstall = (dir: string, args: string[]) => {
      const res = spawnSync('npm', ['install', '--os=win32', '--cpu=x64', '--force', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', ...args], { cwd: dir, encoding: 'utf8', timeout: SLOW });
      expect(res.status, res.stderr).toBe(0);
    };
    const newProject = (name: string) => {
      const dir = join(work, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
      return dir;
    };
    const cli = (args: string[], exe = nodeExe, dir = project) => prefix.run(exe, [windowsPath(join(dir, 'node_modules', 'logtriage', 'bin', 'logtriage.js')), ...args], dir);
    /** A script in the project that opens the model with the ESM API or require() and prints each case's logits. */
    const logitsScript = (load: 'esm' | 'cjs') => {
      const file = join(project, `logits.${load === 'esm' ? 'mjs' : 'cjs'}`);
      const importLine = load === 'esm' ? "import { LogClassifier } from 'logtriage';" : "const { LogClassifier } = require('logtriage');";
      writeFileSync(
        file,
        `${importLine}\n(async () => {\n  const clf = await LogClassifier.open(${JSON.stringify(windowsPath(model))}, { threads: 2, specialTokens: 'parse', rejectWhitespace: false });\n` +
          `  try { const r = await clf.classifyMany(${JSON.stringify(parityCases.map((c) => c.text))}); console.log(JSON.stringify(r.map((x) => x.logits))); } finally { await clf.dispose(); }\n})();\n`,
      );
      return windowsPath(file);
    };
    const expectParity = (logits: number[][], what: string) => {
      expect(logits, what).toHaveLength(parityCases.length);
      let compared = 0;
      logits.forEach((row, i) => {
        const hf = parityCases[i]!.logits!;
        expect(row, `${what}: ${parityCases[i]!.name}`).toHaveLength(hf.length);
        expect(Math.max(...row.map((x, j) => Math.abs(x - hf[j]!))), `${what} vs HF: ${parityCases[i]!.name}`).toBeLessThanOrEqual(1e-4);
        expect(Math.max(...row.map((x, j) => Math.abs(x - linuxLogits[i]![j]!))), `${what} vs Linux: ${parityCases[i]!.name}`).toBeLessThanOrEqual(1e-4);
        compared++;
      });
      expect(compared).toBeGreaterThanOrEqual(40);
    };

    beforeAll(async () => {
      prefix = new WinePrefix(wine!);
      nodeExe = windowsPath(join(fetchNpmPackage(NODE_WINDOWS, cacheRoot()), 'bin', 'node.exe'));
      project = newProject('windows-app');
      npmInstall(project, [tarball('logtriage'), tarball('@logtriage/win32-x64')]);
      expect(readdirSync(join(project, 'node_modules', '@logtriage'))).toEqual(['win32-x64']);
      model = join(project, 'tiny-f32.gguf');
      const clf = await LogClassifier.open(tinyModel('f32'), { threads: 2, specialTokens: 'parse', rejectWhitespace: false });
      try {
        linuxLogits = (await clf.classifyMany(parityCases.map((c) => c.text))).map((r) => r.logits);
      } finally {
        await clf.dispose();
      }
    }, SLOW);

    afterAll(() => prefix?.dispose());

    it('node.exe is Windows: process.platform is win32 under Wine', () => {
      const res = prefix.run(nodeExe, ['-p', 'process.platform + " " + process.arch'], project);
      expect(res.status, res.stderr).toBe(0);
      expect(res.stdout.trim()).toBe('win32 x64');
    });

    it('the CLI converts the HF checkpoint, and info and verify read the result', () => {
      const convert = cli(['convert', windowsPath(tinyCheckpointDir()), '-o', windowsPath(model), '--type', 'f32']);
      expect(convert.status, convert.stderr).toBe(0);
      // The converter is ours and deterministic: the Windows run writes the bytes the Linux run wrote.
      expect(readFileSync(model).equals(readFileSync(tinyModel('f32')))).toBe(true);
      const info = cli(['info', windowsPath(model), '--json']);
      expect(info.status, info.stderr).toBe(0);
      expect(JSON.parse(info.stdout).model.labels).toEqual(['Normal', 'Suspicious', 'Malicious', 'Informational', 'Error']);
      const verify = cli(['verify', windowsPath(model)]);
      expect(verify.status, verify.stderr + verify.stdout).toBe(0);
    }, SLOW);

    it('classify through the CLI gives the Linux build’s labels and scores', async () => {
      const lines = parityCases.slice(0, 12).map((c) => c.text);
      const input = join(project, 'lines.log');
      writeFileSync(input, `${lines.join('\r\n')}\r\n`);
      const res = cli(['classify', windowsPath(input), '--model', windowsPath(model), '--format', 'jsonl', '--threads', '2']);
      expect(res.status, res.stderr).toBe(0);
      const rows = res.stdout.trim().split(/\r?\n/).map((l) => JSON.parse(l) as { label: string; score: number });
      const clf = await LogClassifier.open(tinyModel('f32'), { threads: 2 });
      try {
        const linux = await clf.classifyMany(lines);
        expect(rows).toHaveLength(linux.length);
        rows.forEach((row, i) => {
          expect(row.label).toBe(linux[i]!.label);
          expect(Math.abs(row.score - linux[i]!.score)).toBeLessThanOrEqual(1e-5);
        });
      } finally {
        await clf.dispose();
      }
    }, SLOW);

    it('the ESM API gives HF’s logits within the F32 bar (1e-4), as the Linux build does', () => {
      const res = prefix.run(nodeExe, [logitsScript('esm')], project);
      expect(res.status, res.stderr).toBe(0);
      expectParity(JSON.parse(res.stdout), 'ESM under Wine');
    }, SLOW);

    it('require() works too, and so does a host executable not named node.exe (Electron’s case)', () => {
      const app = join(project, 'MyApp.exe');
      copyFileSync(nodeExe.slice(2), app);
      const res = prefix.run(windowsPath(app), [logitsScript('cjs')], project);
      expect(res.status, res.stderr).toBe(0);
      expectParity(JSON.parse(res.stdout), 'require() in MyApp.exe');
    }, SLOW);

    it('without the platform package: the loader’s one clear error, exit 1, no stack', () => {
      const bare = newProject('windows-no-optional');
      npmInstall(bare, ['--omit=optional', tarball('logtriage')]);
      const input = join(bare, 'one.log');
      writeFileSync(input, 'one line\r\n');
      const res = cli(['classify', windowsPath(input), '--model', windowsPath(model)], nodeExe, bare);
      expect(res.status).toBe(1);
      expect(res.stderr).toContain('could not be loaded on win32-x64');
      expect(res.stderr).toContain('@logtriage/win32-x64 (not installed)');
      expect(res.stderr).toContain('npm install --include=optional logtriage');
      expect(res.stderr).not.toMatch(/\n\s+at /);
    }, SLOW);

    it('the addon imports only the DLLs it ships and Windows’ own (no libstdc++ or winpthread to find)', () => {
      const lib = join(unpack(tarball('@logtriage/win32-x64')), 'lib');
      const dump = spawnSync('x86_64-w64-mingw32-objdump', ['-p', join(lib, 'logtriage.node')], { encoding: 'utf8' });
      expect(dump.status, dump.stderr).toBe(0);
      const dlls = [...dump.stdout.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]!);
      const shipped = new Set(readdirSync(lib).map((f) => f.toLowerCase()));
      const foreign = dlls.filter((d) => !shipped.has(d.toLowerCase()) && !['kernel32.dll', 'msvcrt.dll'].includes(d.toLowerCase()));
      expect(dlls.length).toBeGreaterThanOrEqual(4);
      expect(foreign).toEqual([]);
      // Node-API is delay-loaded from the host (the Electron hook), never a load-time import of node.exe.
      expect(dlls.map((d) => d.toLowerCase())).not.toContain('node.exe');
    });
  });

  describe.each(['darwin-arm64', 'darwin-x64'] as const)('%s, checked statically', (platform) => {
    let lib = '';
    let files: string[] = [];
    const addon = () => join(lib, 'logtriage.node');
    const libraries = () => files.filter((f) => /\.(dylib|so)$/.test(f)).map((f) => join(lib, f));
    const isSystem = (name: string) => name.startsWith('/usr/lib/') || name.startsWith('/System/Library/Frameworks/');

    beforeAll(() => {
      lib = join(unpack(tarball(`@logtriage/${platform}`)), 'lib');
      files = readdirSync(lib);
    });

    it('load commands name only files the package ships (@rpath, found via @loader_path) or system libraries', () => {
      let checked = 0;
      for (const file of [addon(), ...libraries()]) {
        const commands = loadCommands(file);
        for (const c of commands.filter((c) => c.cmd === 'LC_LOAD_DYLIB' || c.cmd === 'LC_LOAD_WEAK_DYLIB')) {
          const name = c.fields.name!;
          if (isSystem(name)) continue;
          expect(name, basename(file)).toMatch(/^@rpath\//);
          expect(files, `${basename(file)} loads ${name}`).toContain(name.slice('@rpath/'.length));
          checked++;
        }
        expect(commands.filter((c) => c.cmd === 'LC_RPATH').map((c) => c.fields.path), basename(file)).toContain('@loader_path');
      }
      expect(checked).toBeGreaterThanOrEqual(3);
      expect(loadCommands(addon()).find((c) => c.cmd === 'LC_ID_DYLIB')?.fields.name).toBe('@rpath/logtriage.node');
    });

    it('every undefined symbol of the addon is exported by a shipped library, the system, or is Node-API (looked up at load)', () => {
      const napi = new Set(
        ['js_native_api.def', 'node_api.def'].flatMap((def) =>
          readFileSync(join(repoRoot, 'node_modules', 'node-api-headers', 'def', def), 'utf8').split('\n').map((l) => l.trim()).filter((l) => /^napi_|^node_api_/.test(l)),
        ),
      );
      const loaded = loadCommands(addon()).filter((c) => c.cmd === 'LC_LOAD_DYLIB').map((c) => c.fields.name!);
      const exportsOf = new Map<string, Set<string>>();
      const counts = { shipped: 0, system: 0, nodeApi: 0 };
      for (const sym of undefinedSymbols(addon())) {
        if (sym.from === undefined) {
          expect(napi, `${sym.name} is looked up at load time`).toContain(sym.name.replace(/^_/, ''));
          counts.nodeApi++;
          continue;
        }
        const path = loaded.filter((p) => basename(p).startsWith(`${sym.from}.`));
        expect(path, `${sym.name} (from ${sym.from})`).toHaveLength(1);
        if (isSystem(path[0]!)) {
          counts.system++;
          continue;
        }
        const file = join(lib, path[0]!.slice('@rpath/'.length));
        if (!exportsOf.has(file)) exportsOf.set(file, exportedSymbols(file));
        expect(exportsOf.get(file), `${sym.name} from ${basename(file)}`).toContain(sym.name);
        counts.shipped++;
      }
      expect(counts.nodeApi).toBeGreaterThan(30);
      expect(counts.shipped).toBeGreaterThan(30);
      expect(counts.system).toBeGreaterThan(10);
    });

    it('the minimum macOS is not below the shipped libraries’ own', () => {
      const minos = (file: string) => loadCommands(file).find((c) => c.cmd === 'LC_BUILD_VERSION')?.fields.minos;
      const ours = minos(addon());
      expect(ours).toBe('14.0');
      for (const file of libraries()) expect(Number(minos(file)), basename(file)).toBeLessThanOrEqual(Number(ours));
    });
  });

  describe('darwin-arm64 (Apple Silicon), checked statically', () => {
    let lib = '';
    const addon = () => join(lib, 'logtriage.node');
    beforeAll(() => {
      lib = join(unpack(tarball('@logtriage/darwin-arm64')), 'lib');
    });

    it('the ad-hoc signature is valid, page by page, and the check catches a changed byte', () => {
      const sig = verifyCodeSignature(addon());
      expect(sig.flags & CS_ADHOC).toBe(CS_ADHOC);
      expect(sig.pages).toBeGreaterThan(10);
      expect(sig.badPages).toEqual([]);
      const tampered = join(work, 'tampered.node');
      const bytes = readFileSync(addon());
      bytes[5000] = bytes[5000]! ^ 0xff;
      writeFileSync(tampered, bytes);
      expect(verifyCodeSignature(tampered).badPages).toEqual([Math.floor(5000 / sig.pageSize)]);
    });

    it('Metal is in what the addon loads: the backend ships beside it, links Metal.framework, exports its entry', () => {
      const manifest = JSON.parse(readFileSync(join(lib, 'logtriage-build.json'), 'utf8'));
      expect(manifest.gpuBackends).toEqual(['metal']);
      const metal = join(lib, 'libggml-metal.so');
      expect(loadCommands(metal).map((c) => c.fields.name)).toContain('/System/Library/Frameworks/Metal.framework/Versions/A/Metal');
      expect(exportedSymbols(metal)).toContain('_ggml_backend_init');
      // The addon registers every backend in its own folder (binding.ts loadBackends → this call).
      expect(undefinedSymbols(addon()).map((s) => s.name)).toContain('_ggml_backend_load_all_from_path');
    });
  });
});
