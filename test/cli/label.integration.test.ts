// SPDX-License-Identifier: MIT
// `logtriage label`: the page in Debian's Chromium (playwright-core, as the eval report test),
// keyboard only; labels appended as JSON Lines that adapt/eval read; a second session resumes
// where the first stopped; u undoes the last answer; the server answers only 127.0.0.1 with its token and Host;
// the real CLI killed with SIGKILL mid-session and restarted on the same file loses nothing and repeats nothing.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabeling } from '../../src/cli/commands/label.js';
import { readLabeledRows } from '../../src/evaluation/readLabeledRows.js';
import { LogClassifier } from '../../src/LogClassifier.js';
import { LabelSession, topMargin } from '../../src/label/labelSession.js';
import { templateOf } from '../../src/templates/templateOf.js';
import { artifactsDir, tinyModel } from '../fixtures/index.js';
import { startCli, waitFor, type RunningCli } from './spawnCli.js';

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
const LINES = ['kernel: oom', 'sshd[2]: Accepted publickey', 'cron[3]: job done', HOSTILE, 'nginx: GET /health 200'];

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
    const q = first.session.offered().map((o) => o.text);
    const requests: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    try {
      expect(first.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{32}$/);
      expect(first.session.state()).toMatchObject({ remaining: 5, labeled: 0, mode: 'random', prediction: null });
      // Random mode (no model): a seeded shuffle of the five distinct lines.
      expect([...q].sort()).toEqual([...LINES].sort());
      const page = await pageAt(first.server.url);
      expect(await lineAt(page, 0)).toBe(q[0]);
      await page.keyboard.press('3');
      expect(await lineAt(page, 1)).toBe(q[1]);
      await page.keyboard.press('s');
      expect(await lineAt(page, 2)).toBe(q[2]);
      await page.keyboard.press('1');
      expect(await lineAt(page, 3)).toBe(q[3]);
      await page.keyboard.press('9'); // no ninth label: nothing happens
      await page.keyboard.press('2');
      expect(await lineAt(page, 4)).toBe(q[4]);
      // Log text is shown as text, never run as HTML (HOSTILE has been shown by now).
      expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
      await page.close();
    } finally {
      await first.server.close();
    }
    expect(requests.every((u) => u.startsWith(first.server.url.split('?')[0]!))).toBe(true);
    const rows = await readLabeledRows(output, { textField: 'text', labelField: 'label', format: 'jsonl' });
    expect(rows.map((r) => [r.text, r.label])).toEqual([
      [q[0], 'Error'],
      [q[2], 'Normal'],
      [q[3], 'Suspicious'],
    ]);
    expect(JSON.parse(readFileSync(output, 'utf8').split('\n')[0]!)).toEqual({ text: q[0], label: 'Error', mode: 'random' });

    const second = await startLabeling([log], { output, labels: LABELS });
    try {
      expect(second.session.state()).toMatchObject({ labeled: 3, remaining: 2 });
      // The skipped line comes back; labeled ones do not.
      const q2 = second.session.offered().map((o) => o.text);
      expect([...q2].sort()).toEqual([q[1], q[4]].sort());
      const page = await pageAt(second.server.url);
      expect(await lineAt(page, 0)).toBe(q2[0]);
      await page.keyboard.press('1');
      expect(await lineAt(page, 1)).toBe(q2[1]);
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
    const q = session.offered().map((o) => o.text);
    try {
      const page = await pageAt(server.url);
      expect(await lineAt(page, 0)).toBe(q[0]);
      await page.keyboard.press('3');
      expect(await lineAt(page, 1)).toBe(q[1]);
      await page.keyboard.press('1');
      expect(await lineAt(page, 2)).toBe(q[2]);
      await page.keyboard.press('2');
      expect(await lineAt(page, 3)).toBe(q[3]);
      expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
      await page.keyboard.press('u');
      expect(await lineAt(page, 2)).toBe(q[2]);
      expect(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([
        { text: q[0], label: 'Error', mode: 'random' },
        { text: q[1], label: 'Normal', mode: 'random' },
      ]);
      expect(session.state()).toMatchObject({ labeled: 2, undoable: 2 });
      // Relabeled: the row is appended again, with the new label; no temporary file is left.
      await page.keyboard.press('1');
      expect(await lineAt(page, 3)).toBe(q[3]);
      // A skip is undone too (nothing to remove), and undo works once all is done.
      await page.keyboard.press('s');
      expect(await lineAt(page, 4)).toBe(q[4]);
      await page.keyboard.press('u');
      expect(await lineAt(page, 3)).toBe(q[3]);
      await page.keyboard.press('s');
      expect(await lineAt(page, 4)).toBe(q[4]);
      await page.keyboard.press('2');
      await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.done === 'true');
      await page.keyboard.press('u');
      expect(await lineAt(page, 4)).toBe(q[4]);
      await page.close();
    } finally {
      await server.close();
    }
    const rows = await readLabeledRows(out, { textField: 'text', labelField: 'label', format: 'jsonl' });
    expect(rows.map((r) => [r.text, r.label])).toEqual([
      [q[0], 'Error'],
      [q[1], 'Normal'],
      [q[2], 'Normal'],
    ]);
    expect(readdirSync(workDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  it.skipIf(chromiumMissing)('the CLI reloaded, then killed with SIGKILL mid-session and restarted on the same file: whole JSON lines, it resumes where it stopped, no line written twice', async () => {
    const killLog = join(workDir, 'kill.log');
    const out = join(workDir, 'kill.jsonl');
    // Twelve templates (words tell them apart: templateOf masks numbers).
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
    writeFileSync(killLog, words.map((w) => `app: ${w} step finished`).join('\n') + '\n');
    const args = ['label', killLog, '-o', out, '--labels', LABELS, '--mode', 'random', '--seed', '3'];
    // The order the CLI offers (the same logs and seed), from a session on a scratch file.
    const order = (await LabelSession.open({ files: [killLog], labels: LABELS.split(','), output: join(workDir, 'kill-order.jsonl'), mode: 'random', seed: 3 })).offered().map((o) => o.text);
    expect(order).toHaveLength(words.length);
    const startPage = async (cli: RunningCli): Promise<Page> => {
      await waitFor(cli, 'the page address', () => /open http:\S+/.test(cli.stderr()), 120_000);
      return pageAt(/open (http:\S+)/.exec(cli.stderr())![1]!);
    };
    const row = (text: string, label: string) => ({ text, label, mode: 'random' });

    const first = startCli(args);
    try {
      const page = await startPage(first);
      expect(await lineAt(page, 0)).toBe(order[0]);
      await page.keyboard.press('1');
      expect(await lineAt(page, 1)).toBe(order[1]);
      await page.keyboard.press('s');
      expect(await lineAt(page, 2)).toBe(order[2]);
      await page.keyboard.press('2');
      expect(await lineAt(page, 3)).toBe(order[3]);
      // A reload mid-session shows the line the server is at.
      await page.reload({ waitUntil: 'load' });
      expect(await lineAt(page, 3)).toBe(order[3]);
      await page.keyboard.press('3');
      expect(await lineAt(page, 4)).toBe(order[4]);
      // One more answer, and the kill right behind it: the server may or may not have written it.
      await page.keyboard.press('1');
      first.child.kill('SIGKILL');
      await first.exited;
      expect(first.child.signalCode).toBe('SIGKILL');
      await page.close();
    } finally {
      first.child.kill('SIGKILL');
    }
    const afterKill = readFileSync(out, 'utf8');
    expect(afterKill.endsWith('\n')).toBe(true);
    const rows = afterKill.slice(0, -1).split('\n').map((l) => JSON.parse(l) as unknown);
    const confirmed = [row(order[0]!, 'Normal'), row(order[2]!, 'Suspicious'), row(order[3]!, 'Error')];
    expect([confirmed, [...confirmed, row(order[4]!, 'Normal')]]).toContainEqual(rows);

    // The restart offers the same order less the labeled lines: the skipped line first, then on.
    const left = order.filter((text) => !rows.some((r) => (r as { text: string }).text === text));
    expect(left[0]).toBe(order[1]);
    const second = startCli(args);
    try {
      const page = await startPage(second);
      expect(second.stderr()).toContain(`labeling ${left.length} lines`);
      for (let i = 0; i < left.length; i++) {
        expect(await lineAt(page, i)).toBe(left[i]);
        await page.keyboard.press(String((i % 3) + 1));
      }
      await page.waitForFunction(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.done === 'true');
      await page.close();
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      second.child.kill('SIGKILL');
    }
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const texts = lines.map((l) => (JSON.parse(l) as { text: string }).text);
    expect(texts).toHaveLength(order.length);
    expect([...texts].sort()).toEqual([...order].sort());
  }, 300_000);

  it.skipIf(chromiumMissing)('? shows and hides the keys; each label shows its count of rows in the file, kept on each answer', async () => {
    const out = join(workDir, 'counts.jsonl');
    // An earlier session's rows count too (and a label no longer offered is left out).
    writeFileSync(out, `${JSON.stringify({ text: 'kernel: oom', label: 'Error' })}\n${JSON.stringify({ text: 'old line', label: 'Gone' })}\n`);
    const { server, session } = await startLabeling([log], { output: out, labels: LABELS });
    const q = session.offered().map((o) => o.text);
    expect([...q].sort()).toEqual(LINES.filter((l) => l !== 'kernel: oom').sort());
    try {
      const page = await pageAt(server.url);
      const counts = () => page.$$eval('#labels li', (lis) => lis.map((li) => [(li as unknown as { dataset: Record<string, string> }).dataset.label, (li as unknown as { querySelector(s: string): { textContent: string } }).querySelector('.count').textContent]));
      const helpShown = () => page.$eval('#help', (e) => !(e as unknown as { hidden: boolean }).hidden);
      expect(await counts()).toEqual([['Normal', '0'], ['Suspicious', '0'], ['Error', '1']]);
      expect(await lineAt(page, 0)).toBe(q[0]);
      expect(await helpShown()).toBe(false);
      await page.keyboard.press('?');
      expect(await helpShown()).toBe(true);
      expect(await page.$eval('#help', (e) => (e as unknown as { textContent: string }).textContent)).toMatch(/skip[\s\S]*undo[\s\S]*show or hide/);
      await page.keyboard.press('?');
      expect(await helpShown()).toBe(false);
      await page.keyboard.press('1');
      expect(await lineAt(page, 1)).toBe(q[1]);
      expect(await counts()).toEqual([['Normal', '1'], ['Suspicious', '0'], ['Error', '1']]);
      await page.keyboard.press('3');
      expect(await lineAt(page, 2)).toBe(q[2]);
      expect(await counts()).toEqual([['Normal', '1'], ['Suspicious', '0'], ['Error', '2']]);
      await page.keyboard.press('u');
      expect(await lineAt(page, 1)).toBe(q[1]);
      expect(await counts()).toEqual([['Normal', '1'], ['Suspicious', '0'], ['Error', '1']]);
      await page.close();
    } finally {
      await server.close();
    }
  }, 120_000);

  it('answers only with its token and its own Host, and refuses a stale line', async () => {
    const out = join(workDir, 'api.jsonl');
    const { server, session } = await startLabeling([log], { output: out, labels: LABELS });
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
      expect(state).toMatchObject({ index: 0, text: session.offered()[0]!.text, labels: ['Normal', 'Suspicious', 'Error'] });
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

  describe('--mode', () => {
    // Twelve templates, most with several lines (numbers and addresses are masked).
    const manyLog = join(workDir, 'many.log');
    const MANY = Array.from({ length: 36 }, (_, i) =>
      [
        `sshd[${i}]: Accepted publickey for user${i % 2} from 10.0.0.${i}`,
        `kernel: Out of memory: Killed process ${i}`,
        `nginx: GET /api/items/${i} 200 ${i * 7}ms`,
        `cron[${i}]: (root) CMD (run-parts /etc/cron.hourly)`,
        `app: payment ${i} failed: card declined`,
        `app: user ${i} logged in`,
        `sshd[${i}]: Failed password for invalid user admin from 203.0.113.${i} port ${1000 + i}`,
        `systemd[1]: Started Session ${i} of user root.`,
        `app: disk usage at ${i}%`,
        `kernel: usb 1-${i}: new high-speed USB device`,
        `app: cache miss for key k${i}`,
        `postgres: connection ${i} reset by peer`,
      ][i % 12]!,
    );

    it('random: one line per template (the first seen), a seeded shuffle that a second run repeats', async () => {
      writeFileSync(manyLog, `${MANY.join('\n')}\n`);
      const firstSeen = new Map<string, string>();
      for (const line of MANY) if (!firstSeen.has(templateOf(line))) firstSeen.set(templateOf(line), line);
      const open = async (seed?: number) => {
        const { server, session } = await startLabeling([manyLog], { output: join(workDir, 'many.jsonl'), labels: LABELS, ...(seed !== undefined ? { seed } : {}) });
        await server.close();
        return session.offered().map((o) => o.text);
      };
      const a = await open();
      expect(a.length).toBe(firstSeen.size);
      expect([...a].sort()).toEqual([...firstSeen.values()].sort());
      expect(await open()).toEqual(a);
      expect(await open(1)).toEqual(a);
      const other = await open(7);
      expect([...other].sort()).toEqual([...a].sort());
      expect(other).not.toEqual(a);
      expect(a).not.toEqual([...firstSeen.values()]);
    });

    it('uncertain (the default with --model): smallest top-2 margin first, round-robin over predicted labels; rows record the mode', async () => {
      writeFileSync(manyLog, `${MANY.join('\n')}\n`);
      const out = join(workDir, 'uncertain.jsonl');
      const { server, session } = await startLabeling([manyLog], { output: out, model: tinyModel('f32'), threads: 2 });
      const offered = session.offered();
      try {
        expect(session.state().mode).toBe('uncertain');
        expect(offered.length).toBe(12);
        // The predictions are the model's own.
        const clf = await LogClassifier.open(tinyModel('f32'), { threads: 2 });
        try {
          const results = await clf.classifyMany(offered.map((o) => o.text));
          results.forEach((r, i) => {
            expect(offered[i]!.prediction!.label).toBe(r.label);
            expect(offered[i]!.prediction!.margin).toBeCloseTo(topMargin(r.scores), 6);
          });
        } finally {
          await clf.dispose();
        }
        const margins = offered.map((o) => o.prediction!.margin);
        expect(margins[0]).toBe(Math.min(...margins));
        // Each label's lines come by margin, smallest first; round r holds each label's r-th line.
        const labels = [...new Set(offered.map((o) => o.prediction!.label))];
        for (const label of labels) {
          const own = offered.filter((o) => o.prediction!.label === label).map((o) => o.prediction!.margin);
          expect(own).toEqual([...own].sort((x, y) => x - y));
        }
        const firstRound = offered.slice(0, labels.length).map((o) => o.prediction!.label);
        expect(new Set(firstRound).size).toBe(labels.length);
        expect(margins.slice(0, labels.length)).toEqual([...margins.slice(0, labels.length)].sort((x, y) => x - y));
        // Saved rows carry the mode; eval/calibrate/adapt's reader takes them (extra fields ignored).
        const first = session.state();
        expect(first.prediction).toEqual(offered[0]!.prediction);
        await session.label(0, first.labels[0]!);
        expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ text: offered[0]!.text, label: first.labels[0], mode: 'uncertain' });
        expect((await readLabeledRows(out, { textField: 'text', labelField: 'label', format: 'jsonl' }))[0]).toMatchObject({ text: offered[0]!.text, label: first.labels[0] });
        if (!chromiumMissing) {
          const page = await pageAt(server.url);
          expect(await lineAt(page, 1)).toBe(offered[1]!.text);
          expect(await page.$eval('#prediction', (e) => (e as unknown as { textContent: string }).textContent)).toContain(`Model: ${offered[1]!.prediction!.label} (`);
          await page.close();
        }
      } finally {
        await server.close();
      }
    }, 120_000);

    it('refuses uncertain without a model', async () => {
      await expect(startLabeling([log], { output, labels: LABELS, mode: 'uncertain' })).rejects.toThrow(/needs --model/);
    });
  });

  it('refuses more than ten labels, repeated labels and a missing log before serving', async () => {
    await expect(startLabeling([log], { output, labels: 'a,b,c,d,e,f,g,h,i,j,k' })).rejects.toThrow(/at most 10/);
    await expect(startLabeling([log], { output, labels: 'a,a' })).rejects.toThrow(/distinct/);
    await expect(startLabeling([join(workDir, 'missing.log')], { output, labels: 'a' })).rejects.toThrow(/Log file not found/);
  });
});
