// SPDX-License-Identifier: MIT
// `logtriage templates` in-process (it loads no model): JSON Lines on stdout in input order with
// the summary on stderr, the table with its summary on stdout, --summary, several inputs and .gz,
// blank lines skipped, a closed stdout ending the run quietly, and typed errors before reading.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templatesCommand, type TemplatesCommandOptions } from '../../src/cli/commands/templates.js';
import { ValidationError } from '../../src/errors.js';

const LOG = [
  'Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186',
  '',
  'Dec 10 07:02:47 LabSZ sshd[24203]: Invalid user test9 from 52.80.34.196',
  'Dec 10 07:02:49 LabSZ sshd[24203]: Connection closed by 52.80.34.196 [preauth]',
  'Dec 10 07:07:38 LabSZ sshd[24206]: Invalid user admin from 103.99.0.122',
].join('\r\n');

let dir: string;
let plain: string;
let gz: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'logtriage-templates-'));
  plain = join(dir, 'auth.log');
  gz = join(dir, 'auth.log.gz');
  writeFileSync(plain, LOG);
  writeFileSync(gz, gzipSync(LOG));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = Object.assign(new Writable({ write: (c, _e, done) => (out.push(String(c)), done()) }), { isTTY });
  const stderr = new Writable({ write: (c, _e, done) => (err.push(String(c)), done()) });
  return { io: { stdin: Readable.from([]), stdout, stderr }, out: () => out.join(''), err: () => err.join('') };
}

const options = (more: Partial<TemplatesCommandOptions> = {}): TemplatesCommandOptions => ({ summary: false, quiet: false, parser: {}, ...more });

describe('logtriage templates', () => {
  it('writes one JSON line per non-blank line, in order, and the templates by count on stderr', async () => {
    const c = capture();
    const result = await templatesCommand([plain], options(), c.io);
    const records = c.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => Object.keys(r))).toEqual(Array(4).fill(['line', 'template_id', 'template']));
    expect(records.map((r) => r['line'])).toEqual([1, 3, 4, 5]);
    expect(records[3]).toEqual({ line: 5, template_id: records[0]!['template_id'], template: 'Invalid user <*> from <*>' });
    expect(records[2]!['template']).toBe('Connection closed by <*> [preauth]');
    expect(result).toEqual({ lines: 4, blank: 1, templates: 2, evicted: 0 });
    expect(c.err()).toMatch(/^COUNT {2}SHARE {3}TEMPLATE_ID {2}TEMPLATE\n {4}3 {3}75\.0% {2}[0-9a-f]{8} {5}Invalid user <\*> from <\*>\n/);
    expect(c.err()).toContain('logtriage: 4 lines, 2 templates, 1 blank lines skipped\n');
  });

  it('prints a table with the templates by count after it on a terminal, and nothing on stderr with --quiet', async () => {
    const c = capture(true);
    await templatesCommand([plain], options({ quiet: true }), c.io);
    const [rows, summary] = c.out().split('\n\n');
    expect(rows!.split('\n')[0]).toBe('LINE  TEMPLATE_ID  TEMPLATE');
    expect(rows!.split('\n')).toHaveLength(5);
    expect(summary).toMatch(/^COUNT {2}SHARE/);
    expect(c.err()).toBe('');
  });

  it('names the file with several inputs, reads .gz, and with --summary --top prints only the commonest templates', async () => {
    const c = capture();
    await templatesCommand([plain, gz], options(), c.io);
    const records = c.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toHaveLength(8);
    expect(records[4]).toMatchObject({ file: gz, line: 1 });
    const s = capture();
    await templatesCommand([plain, gz], options({ summary: true, top: 1, quiet: true }), s.io);
    expect(s.out().trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ template_id: records[0]!['template_id'], count: 6, template: 'Invalid user <*> from <*>' }]);
  });

  it('ends quietly when stdout closes (EPIPE), and refuses bad input before reading', async () => {
    const stdout = new PassThrough();
    stdout.on('data', () => stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })));
    const many = Array.from({ length: 5000 }, (_, i) => `worker ${i} started job ${i * 7}`).join('\n');
    const io = { stdin: Readable.from([Buffer.from(many)]), stdout, stderr: capture().io.stderr };
    await expect(templatesCommand([], options({ quiet: true }), io)).resolves.toMatchObject({ templates: 1 });
    await expect(templatesCommand(['-', '-'], options(), capture().io)).rejects.toThrow(ValidationError);
    await expect(templatesCommand([join(dir, 'missing.log')], options(), capture().io)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(templatesCommand([plain], options({ parser: { similarity: 0 } }), capture().io)).rejects.toThrow(/similarity/);
  });
});
