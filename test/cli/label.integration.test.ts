// SPDX-License-Identifier: MIT
// `logtriage label`: the page in Debian's Chromium (playwright-core, as the eval report test),
// keyboard only; labels appended as JSON Lines that adapt/eval read; a second session resumes
// where the first stopped; u undoes the last answer; the server answers only 127.0.0.1 with its token and Host.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabeling } from '../../src/cli/commands/label.js';
import { readLabeledRows } from '../../src/evaluation/readLabeledRows.js';
import { artifactsDir } from '../fixtures/index.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumMissing = !existsSync(chromiumPath) && process.env.CI !== 'true';
if (chromiumMissing) console.warn(`SKIPPED label page browser test: no Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH; required under CI=true)`);

const workDir = join(artifactsDir, 'label');
const log = join(workDir, 'mixed-endings.log');
const output = join(workDir, 'labeled.jsonl');
const HOSTILE = '<img src=x onerror="globalThis.__pwned=1"> sshd[1]: Failed password';
// LF, CRLF and a lone CR; a blank line and a repeat, neither offered.
const LOG = `kernel: oom\r\nsshd[2]: Accepted publickey\rcron[3]: job done\n\n${HOSTILE}\nkernel: oom\nnginx: GET /health 200\n`;
const LABELS = 'Normal,Suspicious,Error';

let context: BrowserContext;

async function pageAt(url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.index !== undefined);
  return page;
}

/** The line shown, once it is the `index`-th of the session. */
async function lineAt(page: Page, index: number): Promise<string> {
  await page.waitForFunction((i) => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.index === String(i), index);
  return page.$eval('#line', (e) => (e as unknown as { textContent: string }).textContent);
}

beforeAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  writeFileSync(log, LOG);
  if (chromiumMissing) return;
  context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'logtriage-chromium-')), {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
});

describe('logtriage label', () => {
  it.skipIf(chromiumMissing)('labels with the keyboard, appends JSON Lines, and a second session resumes after them', async () => {
    const first = await startLabeling([log], { output, labels: LABELS });
    const requests: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    try {
      expect(first.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32}$/);
      expect(first.session.state()).toMatchObject({ remaining: 5, labeled: 0 });
      const page = await pageAt(first.server.url);
      expect(await lineAt(page, 0)).toBe('kernel: oom');
      await page.keyboard.press('3');
      expect(await lineAt(page, 1)).toBe('sshd[2]: Accepted publickey');
      await page.keyboard.press('s');
      expect(await lineAt(page, 2)).toBe('cron[3]: job done');
      await page.keyboard.press('1');
      // Log text is shown as text, never run as HTML.
      expect(await lineAt(page, 3)).toBe(HOSTILE);
      expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
      await page.keyboard.press('9'); // no ninth label: nothing happens
      await page.keyboard.press('2');
      expect(await lineAt(page, 4)).toBe('nginx: GET /health 200');
      await page.close();
    } finally {
      await first.server.close();
    }
    expect(requests.every((u) => u.startsWith(first.server.url.split('?')[0]!))).toBe(true);
    const rows = await readLabeledRows(output, { textField: 'text', labelField: 'label', format: 'jsonl' });
    expect(rows.map((r) => [r.text, r.label])).toEqual([
      ['kernel: oom', 'Error'],
      ['cron[3]: job done', 'Normal'],
      [HOSTILE, 'Suspicious'],
    ]);

    const second = await startLabeling([log], { output, labels: LABELS });
    try {
      expect(second.session.state()).toMatchObject({ labeled: 3, remaining: 2 });
      const page = await pageAt(second.server.url);
      // The skipped line comes back; labeled ones do not.
      expect(await lineAt(page, 0)).toBe('sshd[2]: Accepted publickey');
      await page.keyboard.press('1');
      expect(await lineAt(page, 1)).toBe('nginx: GET /health 200');
      await page.keyboard.press('1');
      await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.done === 'true');
      expect(await page.$eval('#status', (e) => (e as unknown as { textContent: string }).textContent)).toBe('All done: 5 lines labeled.');
      await page.close();
    } finally {
      await second.server.close();
    }
    expect(readFileSync(output, 'utf8').trim().split('\n')).toHaveLength(5);
  }, 120_000);

  it.skipIf(chromiumMissing)('u undoes the last answer: its row leaves the file (rewritten whole) and its line comes back', async () => {
    const out = join(workDir, 'undo.jsonl');
    const { server, session } = await startLabeling([log], { output: out, labels: LABELS });
    try {
      const page = await pageAt(server.url);
      expect(await lineAt(page, 0)).toBe('kernel: oom');
      await page.keyboard.press('3');
      expect(await lineAt(page, 1)).toBe('sshd[2]: Accepted publickey');
      await page.keyboard.press('1');
      expect(await lineAt(page, 2)).toBe('cron[3]: job done');
      await page.keyboard.press('2');
      expect(await lineAt(page, 3)).toBe(HOSTILE);
      expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
      await page.keyboard.press('u');
      expect(await lineAt(page, 2)).toBe('cron[3]: job done');
      expect(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([
        { text: 'kernel: oom', label: 'Error' },
        { text: 'sshd[2]: Accepted publickey', label: 'Normal' },
      ]);
      expect(session.state()).toMatchObject({ labeled: 2, undoable: 2 });
      // Relabeled: the row is appended again, with the new label; no temporary file is left.
      await page.keyboard.press('1');
      expect(await lineAt(page, 3)).toBe(HOSTILE);
      // A skip is undone too (nothing to remove), and undo works once all is done.
      await page.keyboard.press('s');
      expect(await lineAt(page, 4)).toBe('nginx: GET /health 200');
      await page.keyboard.press('u');
      expect(await lineAt(page, 3)).toBe(HOSTILE);
      await page.keyboard.press('s');
      expect(await lineAt(page, 4)).toBe('nginx: GET /health 200');
      await page.keyboard.press('2');
      await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.done === 'true');
      await page.keyboard.press('u');
      expect(await lineAt(page, 4)).toBe('nginx: GET /health 200');
      await page.close();
    } finally {
      await server.close();
    }
    const rows = await readLabeledRows(out, { textField: 'text', labelField: 'label', format: 'jsonl' });
    expect(rows.map((r) => [r.text, r.label])).toEqual([
      ['kernel: oom', 'Error'],
      ['sshd[2]: Accepted publickey', 'Normal'],
      ['cron[3]: job done', 'Normal'],
    ]);
    expect(readdirSync(workDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  it.skipIf(chromiumMissing)('? shows and hides the keys; each label shows its count of rows in the file, kept on each answer', async () => {
    const out = join(workDir, 'counts.jsonl');
    // An earlier session's rows count too (and a label no longer offered is left out).
    writeFileSync(out, `${JSON.stringify({ text: 'kernel: oom', label: 'Error' })}\n${JSON.stringify({ text: 'old line', label: 'Gone' })}\n`);
    const { server } = await startLabeling([log], { output: out, labels: LABELS });
    try {
      const page = await pageAt(server.url);
      const counts = () => page.$$eval('#labels li', (lis) => lis.map((li) => [(li as unknown as { dataset: Record<string, string> }).dataset.label, (li as unknown as { querySelector(s: string): { textContent: string } }).querySelector('.count').textContent]));
      const helpShown = () => page.$eval('#help', (e) => !(e as unknown as { hidden: boolean }).hidden);
      expect(await counts()).toEqual([['Normal', '0'], ['Suspicious', '0'], ['Error', '1']]);
      expect(await lineAt(page, 0)).toBe('sshd[2]: Accepted publickey');
      expect(await helpShown()).toBe(false);
      await page.keyboard.press('?');
      expect(await helpShown()).toBe(true);
      expect(await page.$eval('#help', (e) => (e as unknown as { textContent: string }).textContent)).toMatch(/skip[\s\S]*undo[\s\S]*show or hide/);
      await page.keyboard.press('?');
      expect(await helpShown()).toBe(false);
      await page.keyboard.press('1');
      expect(await lineAt(page, 1)).toBe('cron[3]: job done');
      expect(await counts()).toEqual([['Normal', '1'], ['Suspicious', '0'], ['Error', '1']]);
      await page.keyboard.press('3');
      expect(await lineAt(page, 2)).toBe(HOSTILE);
      expect(await counts()).toEqual([['Normal', '1'], ['Suspicious', '0'], ['Error', '2']]);
      await page.keyboard.press('u');
      expect(await lineAt(page, 1)).toBe('cron[3]: job done');
      expect(await counts()).toEqual([['Normal', '1'], ['Suspicious', '0'], ['Error', '1']]);
      await page.close();
    } finally {
      await server.close();
    }
  }, 120_000);

  it('answers only with its token and its own Host, and refuses a stale line', async () => {
    const out = join(workDir, 'api.jsonl');
    const { server } = await startLabeling([log], { output: out, labels: LABELS });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const token = new URL(server.url).searchParams.get('token')!;
      expect((await fetch(`${base}/`)).status).toBe(403);
      expect((await fetch(`${base}/?token=${'0'.repeat(32)}`)).status).toBe(403);
      expect((await fetch(server.url)).status).toBe(200);
      expect((await fetch(`${base}/api/state`)).status).toBe(403);
      const headers = { 'x-logtriage-token': token, 'content-type': 'application/json' };
      // fetch() cannot set Host: a DNS-rebinding page's request arrives with its own name.
      const rebound = await new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port: server.port, path: '/api/state', headers: { 'x-logtriage-token': token, host: `evil.example:${server.port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
      expect(rebound).toBe(403);
      const state = await (await fetch(`${base}/api/state`, { headers })).json();
      expect(state).toMatchObject({ index: 0, text: 'kernel: oom', labels: ['Normal', 'Suspicious', 'Error'] });
      const stale = await fetch(`${base}/api/label`, { method: 'POST', headers, body: JSON.stringify({ index: 3, label: 'Normal' }) });
      expect(stale.status).toBe(409);
      const unknown = await fetch(`${base}/api/label`, { method: 'POST', headers, body: JSON.stringify({ index: 0, label: 'Nope' }) });
      expect(unknown.status).toBe(409);
      expect(existsSync(out)).toBe(false);
      // Nothing answered yet in this session: nothing to undo.
      expect((await fetch(`${base}/api/undo`, { method: 'POST', headers, body: '{}' })).status).toBe(409);
    } finally {
      await server.close();
    }
  });

  it('refuses more than ten labels, repeated labels and a missing log before serving', async () => {
    await expect(startLabeling([log], { output, labels: 'a,b,c,d,e,f,g,h,i,j,k' })).rejects.toThrow(/at most 10/);
    await expect(startLabeling([log], { output, labels: 'a,a' })).rejects.toThrow(/distinct/);
    await expect(startLabeling([join(workDir, 'missing.log')], { output, labels: 'a' })).rejects.toThrow(/Log file not found/);
  });
});
