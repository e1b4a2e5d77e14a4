// SPDX-License-Identifier: MIT
// Reads Mach-O files with tools independent of the linker that wrote them: Debian's llvm-objdump
// (load commands) and llvm-nm (symbols), and a code-signature check written here from Apple's
// published layout (SuperBlob → CodeDirectory → one SHA-256 per page up to codeLimit).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface LoadCommand {
  cmd: string;
  /** name (LC_LOAD_DYLIB, LC_ID_DYLIB), path (LC_RPATH), minos (LC_BUILD_VERSION), dataoff/datasize (LC_CODE_SIGNATURE). */
  fields: Record<string, string>;
}

function tool(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  if (res.error || res.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.error?.message ?? res.stderr}`);
  return res.stdout;
}

/** Every load command with its fields, from `llvm-objdump --macho --private-headers`. */
export function loadCommands(file: string): LoadCommand[] {
  const commands: LoadCommand[] = [];
  for (const line of tool('llvm-objdump', ['--macho', '--private-headers', file]).split('\n')) {
    const m = /^\s*(\w+) (.*?)\s*$/.exec(line);
    if (!m) continue;
    if (m[1] === 'cmd') commands.push({ cmd: m[2]!, fields: {} });
    else if (commands.length > 0) commands.at(-1)!.fields[m[1]!] = m[2]!.replace(/ \(offset \d+\)$/, '');
  }
  return commands;
}

export interface UndefinedSymbol {
  name: string;
  /** The library llvm-nm says it binds to (its short name), or undefined for a dynamic lookup. */
  from?: string;
}

/** Undefined external symbols and the library each is bound to (two-level namespace), from `llvm-nm -m -u`. */
export function undefinedSymbols(file: string): UndefinedSymbol[] {
  return tool('llvm-nm', ['-m', '-u', file])
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const m = /\(undefined\) (?:weak )?external (\S+)(?: \(from ([^)]+)\))?/.exec(l);
      if (!m) throw new Error(`unexpected llvm-nm line: ${l}`);
      return { name: m[1]!, from: m[2] };
    });
}

/** The external symbols a file defines (exports), from `llvm-nm -g --defined-only`. */
export function exportedSymbols(file: string): Set<string> {
  return new Set(
    tool('llvm-nm', ['-g', '--defined-only', '-j', file])
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

export interface CodeSignature {
  identifier: string;
  flags: number;
  hashType: number;
  pages: number;
  pageSize: number;
  /** Pages whose SHA-256 differs from the one the CodeDirectory records. */
  badPages: number[];
}

const CS_SUPERBLOB = 0xfade0cc0;
const CS_CODEDIRECTORY = 0xfade0c02;
export const CS_ADHOC = 0x2;
const CS_HASHTYPE_SHA256 = 2;

/** Checks the code signature's page hashes against the file's bytes (what the kernel checks on arm64). */
export function verifyCodeSignature(file: string): CodeSignature {
  const bytes = readFileSync(file);
  const sig = loadCommands(file).find((c) => c.cmd === 'LC_CODE_SIGNATURE');
  if (!sig) throw new Error(`${file} has no LC_CODE_SIGNATURE`);
  const dataoff = Number(sig.fields.dataoff);
  if (bytes.readUInt32BE(dataoff) !== CS_SUPERBLOB) throw new Error(`${file}: no code-signature SuperBlob at ${dataoff}`);
  const count = bytes.readUInt32BE(dataoff + 8);
  let cd = -1;
  for (let i = 0; i < count; i++) {
    const offset = bytes.readUInt32BE(dataoff + 12 + i * 8 + 4);
    if (bytes.readUInt32BE(dataoff + offset) === CS_CODEDIRECTORY) cd = dataoff + offset;
  }
  if (cd < 0) throw new Error(`${file}: the signature has no CodeDirectory`);
  const flags = bytes.readUInt32BE(cd + 12);
  const hashOffset = bytes.readUInt32BE(cd + 16);
  const identOffset = bytes.readUInt32BE(cd + 20);
  const nCodeSlots = bytes.readUInt32BE(cd + 28);
  const codeLimit = bytes.readUInt32BE(cd + 32);
  const hashSize = bytes.readUInt8(cd + 36);
  const hashType = bytes.readUInt8(cd + 37);
  const pageSize = 2 ** bytes.readUInt8(cd + 39);
  if (hashType !== CS_HASHTYPE_SHA256 || hashSize !== 32) throw new Error(`${file}: hash type ${hashType} (size ${hashSize}), expected SHA-256`);
  if (codeLimit !== dataoff) throw new Error(`${file}: the signature covers ${codeLimit} bytes, the code ends at ${dataoff}`);
  if (nCodeSlots !== Math.ceil(codeLimit / pageSize)) throw new Error(`${file}: ${nCodeSlots} page hashes for ${codeLimit} bytes`);
  const badPages: number[] = [];
  for (let page = 0; page < nCodeSlots; page++) {
    const start = page * pageSize;
    const actual = createHash('sha256').update(bytes.subarray(start, Math.min(start + pageSize, codeLimit))).digest();
    const recorded = bytes.subarray(cd + hashOffset + page * hashSize, cd + hashOffset + (page + 1) * hashSize);
    if (!actual.equals(recorded)) badPages.push(page);
  }
  const identEnd = bytes.indexOf(0, cd + identOffset);
  return { identifier: bytes.toString('utf8', cd + identOffset, identEnd), flags, hashType, pages: nCodeSlots, pageSize, badPages };
}
