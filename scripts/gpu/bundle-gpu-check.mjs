#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Packs what scripts/gpu/gpu-check.sh needs on a CUDA machine that has no network and no Node.js (a
// lent GPU machine): the Node binary, the addon and its ggml libraries, the CUDA package's
// libggml-cuda.so, llama.cpp's tools, the benchmark and parity scripts compiled to plain
// JavaScript with their npm dependencies inlined, and the parity fixture and loghub sample.
//
//   node scripts/gpu/bundle-gpu-check.mjs --out DIR [--cuda-arch 90|all]
//
// DIR/a/ (about 55 MB) and DIR/b/ (the fixture's 39 MB of weights) each fit one 64 MiB transfer.
// --cuda-arch 90 keeps only the compute_90 PTX in libggml-cuda.so's fat binaries and zeroes the
// rest (the file keeps its size and layout; the driver picks the entry for the card's
// architecture from the headers, and 3.21.1 ships no sm_90 cubin, so a Hopper card JIT-compiles
// that PTX anyway): 159 MB of code compresses to ~20 MB instead of ~125 MB. Use `all` for
// other cards. Large members are compressed once and reused while their source is unchanged.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = resolve(root, '..', 'shared');
const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    'cuda-arch': { type: 'string', default: '90' },
  },
});
if (!args.out) throw new Error('--out DIR is required');
const out = resolve(args.out);
const log = (msg) => process.stderr.write(`[bundle-gpu-check] ${msg}\n`);
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** Offset and size of an ELF64 section, by name. */
function elfSection(buf, name) {
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const strtab = shoff + buf.readUInt16LE(0x3e) * shentsize;
  const strOffset = Number(buf.readBigUInt64LE(strtab + 24));
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * shentsize;
    const nameAt = strOffset + buf.readUInt32LE(h);
    if (buf.toString('latin1', nameAt, buf.indexOf(0, nameAt)) === name) {
      return { offset: Number(buf.readBigUInt64LE(h + 24)), size: Number(buf.readBigUInt64LE(h + 32)) };
    }
  }
  throw new Error(`no ${name} section`);
}

/**
 * Zeroes every fat-binary entry but the PTX for `arch` (CUDA's fatbin layout: a 16-byte header
 * with magic 0xBA55ED50 and the entries' total size, then entries of kind 1 = PTX, 2 = ELF, each
 * with its header size, payload size and, at byte 28, the architecture).
 */
function keepOnlyPtx(buf, arch) {
  const { offset, size } = elfSection(buf, '.nv_fatbin');
  let kept = 0;
  let zeroed = 0;
  for (let pos = offset; pos < offset + size;) {
    if (buf.readUInt32LE(pos) !== 0xba55ed50) {
      pos += 8; // fat binaries are 8-byte aligned, padded between
      continue;
    }
    const end = pos + buf.readUInt16LE(pos + 6) + Number(buf.readBigUInt64LE(pos + 8));
    for (let e = pos + buf.readUInt16LE(pos + 6); e < end;) {
      const kind = buf.readUInt16LE(e);
      const headerSize = buf.readUInt32LE(e + 4);
      const payload = Number(buf.readBigUInt64LE(e + 8));
      if (kind === 1 && buf.readUInt32LE(e + 28) === arch) kept++;
      else {
        buf.fill(0, e + headerSize, e + headerSize + payload);
        zeroed += payload;
      }
      e += headerSize + payload;
    }
    pos = end;
  }
  if (kept === 0) throw new Error(`libggml-cuda.so has no compute_${arch} PTX: use --cuda-arch all`);
  log(`libggml-cuda.so: kept ${kept} compute_${arch} PTX entries, zeroed ${(zeroed / 2 ** 20).toFixed(0)} MiB of other architectures`);
  return buf;
}

/** `data` written xz-compressed to `file`, unless a previous run wrote it from the same bytes. */
function xzOnce(data, file) {
  const digest = sha256(data);
  if (existsSync(`${file}.source-sha256`) && readFileSync(`${file}.source-sha256`, 'utf8') === digest && existsSync(file)) return digest;
  log(`compressing ${file} (minutes)`);
  writeFileSync(file, execFileSync('xz', ['-9', '-T0', '-c'], { input: data, maxBuffer: 2 ** 30 }));
  writeFileSync(`${file}.source-sha256`, digest);
  return digest;
}

async function bundleScripts(dir) {
  const { build } = await import('esbuild');
  const entries = {
    bench: join(root, 'scripts', 'bench', 'bench.ts'),
    contenderLogtriage: join(root, 'scripts', 'bench', 'contenderLogtriage.ts'),
    'check-gpu-parity': join(root, 'scripts', 'gpu', 'check-gpu-parity.ts'),
    'logtriage-cli': join(root, 'src', 'cli', 'main.ts'),
  };
  for (const [name, entry] of Object.entries(entries)) {
    await build({
      entryPoints: [entry],
      outfile: join(dir, `${name}.mjs`),
      bundle: true,
      // Inlined so the device needs no node_modules; esbuild runs only when compiling (compileChild),
      // node-llama-cpp only for its own contender, which GPU runs skip.
      external: ['esbuild', 'node-llama-cpp'],
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
      // Bundled CommonJS dependencies call require(): give the ES module one.
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    });
  }
  // The CLI module exports main(); bin/logtriage.js is what runs it.
  writeFileSync(join(dir, 'logtriage.mjs'), "import { main } from '../logtriage-cli.mjs';\nprocess.exitCode = await main(process.argv);\n");
}

async function main() {
  const stage = join(out, 'stage');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(out, 'a'), { recursive: true });
  mkdirSync(join(out, 'b'), { recursive: true });

  // repo/: laid out like a checkout, so module-relative lookups (addon, packages, ../shared) hold.
  const repo = join(stage, 'repo');
  await bundleScripts(join(repo, '.bench-build'));
  cpSync(join(root, 'build', 'Release'), join(repo, 'build', 'Release'), { recursive: true });
  const cudaPkg = join(root, 'node_modules', '@node-llama-cpp', 'linux-x64-cuda');
  const cudaPkgOut = join(repo, 'node_modules', '@node-llama-cpp', 'linux-x64-cuda');
  mkdirSync(join(cudaPkgOut, 'bins', 'linux-x64-cuda'), { recursive: true });
  copyFileSync(join(cudaPkg, 'package.json'), join(cudaPkgOut, 'package.json'));

  // llama.cpp's tools, beside symlinks to the addon's copies of the same libraries.
  const { binDir } = JSON.parse(readFileSync(join(process.env.LOGTRIAGE_CACHE_DIR ?? join(process.env.HOME ?? '', '.cache', 'logtriage'), 'llama-tools', 'current.json'), 'utf8'));
  const tools = join(stage, 'tools');
  mkdirSync(tools, { recursive: true });
  for (const f of ['llama-bench', 'llama-embedding', 'libllama-common.so']) copyFileSync(join(binDir, f), join(tools, f));
  for (const f of readdirSync(join(repo, 'build', 'Release')).filter((n) => n.endsWith('.so'))) {
    symlinkSync(relative(tools, join(repo, 'build', 'Release', f)), join(tools, f));
  }

  // shared/: the fixture without its weights (those travel in b/), and the loghub sample.
  const fixture = join(shared, 'fixtures', 'qwen2-tiny-public');
  const fixtureOut = join(stage, 'shared', 'fixtures', 'qwen2-tiny-public');
  mkdirSync(join(fixtureOut, 'model'), { recursive: true });
  for (const f of ['expected.jsonl', 'README.md']) copyFileSync(join(fixture, f), join(fixtureOut, f));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(fixture, 'model', f), join(fixtureOut, 'model', f));
  cpSync(join(shared, 'data', 'loghub'), join(stage, 'shared', 'data', 'loghub'), { recursive: true });

  // GNU time measures the benchmark children's peak RSS; images often lack it.
  mkdirSync(join(stage, 'bin'), { recursive: true });
  copyFileSync('/usr/bin/time', join(stage, 'bin', 'time'));

  execFileSync('tar', ['-C', stage, '-cJf', join(out, 'a', 'payload.tar.xz'), '.'], { env: { ...process.env, XZ_OPT: '-6 -T0' } });
  const sums = [];
  sums.push(`${xzOnce(readFileSync(process.execPath), join(out, 'a', 'node.xz'))}  node`);
  const cudaLib = readFileSync(join(cudaPkg, 'bins', 'linux-x64-cuda', 'libggml-cuda.so'));
  const cuda = args['cuda-arch'] === 'all' ? cudaLib : keepOnlyPtx(cudaLib, Number(args['cuda-arch']));
  sums.push(`${xzOnce(cuda, join(out, 'a', 'libggml-cuda.so.xz'))}  libggml-cuda.so`);
  writeFileSync(join(out, 'a', 'SHA256SUMS'), `${sums.join('\n')}\n`);
  copyFileSync(join(root, 'scripts', 'gpu', 'gpu-check.sh'), join(out, 'a', 'gpu-check.sh'));

  copyFileSync(join(fixture, 'model', 'model.safetensors'), join(out, 'b', 'model.safetensors'));
  copyFileSync(join(root, 'scripts', 'gpu', 'gpu-check.sh'), join(out, 'b', 'gpu-check.sh'));
  rmSync(stage, { recursive: true, force: true });
  const size = (dir) => readdirSync(dir).reduce((n, f) => n + readFileSync(join(dir, f)).length, 0);
  log(`${out}/a: ${(size(join(out, 'a')) / 2 ** 20).toFixed(1)} MiB; ${out}/b: ${(size(join(out, 'b')) / 2 ** 20).toFixed(1)} MiB`);
}

main().catch((err) => {
  process.stderr.write(`[bundle-gpu-check] ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
