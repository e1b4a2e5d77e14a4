// SPDX-License-Identifier: MIT
// The reference tables in docs/ against the code they describe: the error classes and their
// codes, the server's kind -> status table, the open() options and their defaults, and the
// defaults of the serve flags that the schemas decide.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { buildProgram } from '../../src/cli/main.js';
import { labelOptionsSchema, openOptionsSchema, templateParserOptionsSchema } from '../../src/options.js';
import { ERROR_STATUS } from '../../src/server/errors.js';
import { serverOptionsSchema } from '../../src/server/serverOptions.js';
import { workerOptionsSchema } from '../../src/worker/workerOptions.js';
import { repoRoot } from '../fixtures/index.js';

/** The rows of the first table whose header starts with `firstHeader`, as cells (pipes escaped as `\|` stay inside cells). */
function table(doc: string, firstHeader: string): string[][] {
  const lines = readFileSync(join(repoRoot, 'docs', doc), 'utf8').split('\n');
  const cells = (line: string) => line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
  const start = lines.findIndex((l) => l.startsWith('|') && cells(l)[0] === firstHeader);
  expect(start, `${doc}: a table headed '${firstHeader}'`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(cells(lines[i]!));
  return rows;
}

const code = (cell: string) => cell.replace(/^`|`$/g, '');

/** A schema default as api.md writes it: `'auto'`, `512`, `{ cells: 512 }`, `['a']`. */
function formatDefault(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(formatDefault).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${formatDefault(v)}`).join(', ')} }`;
  return String(value);
}

describe('docs/api.md', () => {
  it('the Errors table lists every error class with its code', () => {
    const classes = Object.values(errors).filter((C): C is typeof errors.LogTriageError => typeof C === 'function' && C.prototype instanceof errors.LogTriageError);
    expect(classes.length).toBeGreaterThanOrEqual(15);
    const documented = table('api.md', 'class').map(([cls, errCode]) => [code(cls!), code(errCode!)]);
    // The code is set by each constructor: read it from an instance (InputTooLongError takes two numbers).
    const actual = classes.map((C) => [C.name, (Reflect.construct(C, [1, 1]) as errors.LogTriageError).code]);
    expect(documented.sort()).toEqual(actual.sort());
  });

  it('the open() options table lists every option, with the schema default where it is a constant', () => {
    const rows = table('api.md', 'option');
    const shape = openOptionsSchema.shape;
    expect(rows.map(([name]) => code(name!)).sort()).toEqual(Object.keys(shape).sort());
    const defaults = openOptionsSchema.parse({ threads: 1 }) as Record<string, unknown>;
    let compared = 0;
    for (const [name, documentedDefault] of rows) {
      const key = code(name!);
      const value = defaults[key];
      if (key === 'threads' || value === undefined) continue;
      compared++;
      expect(documentedDefault, key).toBe(`\`${formatDefault(value)}\``);
    }
    expect(compared).toBeGreaterThanOrEqual(10);
  });

  it('the TemplateParser options table lists every option, with the schema default', () => {
    const rows = table('api.md', 'parser option');
    expect(rows.map(([name]) => code(name!)).sort()).toEqual(Object.keys(templateParserOptionsSchema.shape).sort());
    const defaults = templateParserOptionsSchema.parse({}) as Record<string, unknown>;
    for (const [name, documentedDefault] of rows) expect(documentedDefault, name).toBe(`\`${formatDefault(defaults[code(name!)])}\``);
  });

  it('the JetStreamWorker options table lists every worker option, with the schema default', () => {
    const rows = table('api.md', 'worker option');
    // A row may name several options: `creds` / `token` / `user` + `password`.
    const names = (cell: string) => [...cell.matchAll(/`(\w+)`/g)].map((m) => m[1]!);
    expect(rows.flatMap(([cell]) => names(cell!)).sort()).toEqual(Object.keys(workerOptionsSchema.shape).sort());
    const defaults = workerOptionsSchema.parse({}) as Record<string, unknown>;
    let compared = 0;
    for (const [cell, documentedDefault] of rows) {
      const [key, ...more] = names(cell!);
      if (more.length > 0 || defaults[key!] === undefined) continue;
      compared++;
      expect(documentedDefault, key).toBe(`\`${formatDefault(defaults[key!])}\``);
    }
    expect(compared).toBeGreaterThanOrEqual(18);
  });
});

describe('docs/cli.md', () => {
  it('the templates flags table names every flag of `logtriage templates`, with the parser defaults', () => {
    const command = buildProgram().commands.find((c) => c.name() === 'templates')!;
    const declared = command.options.map((o) => o.long!).filter((flag) => flag !== '--help');
    expect(declared.length).toBeGreaterThanOrEqual(8);
    const rows = table('cli.md', 'templates flag');
    const flagsOf = (cell: string) => [...cell.matchAll(/--[a-z-]+/g)].map((m) => m[0]);
    expect(rows.flatMap(([cell]) => flagsOf(cell!)).sort()).toEqual(declared.sort());
    const defaults = templateParserOptionsSchema.parse({});
    const documented = new Map(rows.map(([cell, value]) => [flagsOf(cell!)[0]!, value!.replace(/`/g, '')]));
    expect(documented.get('--max-templates')).toBe(String(defaults.maxTemplates));
    expect(documented.get('--similarity')).toBe(String(defaults.similarity));
    expect(documented.get('--max-line-length')).toBe(String(defaults.maxLineLength));
  });

  it('the label flags table names every flag of `logtriage label`, with the schema defaults', () => {
    const command = buildProgram().commands.find((c) => c.name() === 'label')!;
    const declared = command.options.map((o) => o.long!).filter((flag) => flag !== '--help');
    expect(declared.length).toBeGreaterThanOrEqual(6);
    const rows = table('cli.md', 'label flag');
    const flagsOf = (cell: string) => [...cell.matchAll(/--[a-z-]+/g)].map((m) => m[0]);
    expect(rows.map(([cell]) => flagsOf(cell!)[0]!).sort()).toEqual(declared.sort());
    const documented = new Map(rows.map(([cell, value]) => [flagsOf(cell!)[0]!, value!.replace(/`/g, '')]));
    const defaults = labelOptionsSchema.parse({ labels: ['a'], output: 'x' });
    expect(documented.get('--seed')).toBe(String(defaults.seed));
    expect(documented.get('--mode')).toBe('uncertain with --model, else random');
  });

  it('the worker flags table names every flag of `logtriage worker`', () => {
    const declared = buildProgram().commands.find((c) => c.name() === 'worker')!.options.map((o) => o.long!).filter((flag) => flag !== '--help');
    expect(declared.length).toBeGreaterThanOrEqual(30);
    const documented = table('cli.md', 'worker flag').flatMap(([cell]) => [...cell!.matchAll(/--[a-z-]+/g)].map((m) => m[0]));
    expect([...new Set(documented)].sort()).toEqual(declared.sort());
  });
});

describe('every CLI command', () => {
  const docFiles = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const docs = docFiles.map((f) => readFileSync(join(repoRoot, f), 'utf8'));
  const commands = buildProgram().commands;

  it('has every flag named in the docs that show the command', () => {
    expect(commands.length).toBeGreaterThanOrEqual(13);
    const missing = commands.flatMap((command) => {
      const showing = docs.filter((text) => text.includes(`logtriage ${command.name()}`));
      const flags = command.options.map((o) => o.long!).filter((flag) => flag !== '--help');
      return showing.length === 0 ? [`${command.name()}: no doc shows it`] : flags.filter((flag) => !showing.some((text) => text.includes(flag))).map((flag) => `${command.name()} ${flag}`);
    });
    expect(missing).toEqual([]);
  });
});

describe('docs/server.md', () => {
  it('the Errors table is ERROR_STATUS, row for row', () => {
    const documented = table('server.md', 'status').map(([status, kind]) => [Number(status), code(kind!)] as const);
    expect(documented.map(([, kind]) => kind).sort()).toEqual(Object.keys(ERROR_STATUS).sort());
    for (const [status, kind] of documented) expect(status, kind).toBe(ERROR_STATUS[kind as keyof typeof ERROR_STATUS]);
  });

  it('the flags table gives the defaults the schemas decide', () => {
    const rows = new Map(table('server.md', 'flag').map(([flag, value]) => [flag!.split(' ')[0]!.replace(/`/g, ''), value!.replace(/`/g, '')]));
    const server = serverOptionsSchema.parse({});
    const open = openOptionsSchema.parse({ threads: 1 });
    const expected: Record<string, string> = {
      '--max-concurrent-requests': String(server.maxConcurrentRequests),
      '--max-client-batch-size': String(server.maxClientBatchSize),
      '--payload-limit': String(server.payloadLimit),
      '--message-field': server.messageField,
      '--request-timeout': String(server.requestTimeoutMs / 1000),
      '--write-timeout': String(server.writeTimeoutMs / 1000),
      '--max-ingest-records': String(server.maxIngestRecords),
      '--truncation': open.truncation,
      '--max-batch-tokens': String(open.batchTokens),
      '--max-batch-requests': String(open.batchSize),
    };
    for (const [flag, value] of Object.entries(expected)) expect(rows.get(flag), flag).toBe(value);
  });
});
