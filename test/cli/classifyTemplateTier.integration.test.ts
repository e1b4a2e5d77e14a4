// SPDX-License-Identifier: MIT
// `logtriage classify --template-tier` end to end: CSV, ECS and the table say for every line how it
// was classified (via) and its template, as JSON Lines does. With no audits, a line is 'model'
// exactly when it is the first of its template (grouping from TemplateParser, computed here).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { TemplateParser } from '../../src/templates/TemplateParser.js';
import { artifactsDir, loghubDir, splitLogLines, tinyModel } from '../fixtures/index.js';
import { runCli } from '../helpers/runCli.js';

const model = tinyModel('f32');
const workDir = join(artifactsDir, 'classify-template-tier');
let logPath: string;
let expected: Array<{ via: string; id: string }>;

beforeAll(() => {
  mkdirSync(workDir, { recursive: true });
  const lines = ['Apache_2k.log', 'OpenSSH_2k.log'].flatMap((f) => splitLogLines(readFileSync(join(loghubDir(), f), 'utf8')).filter((l) => l.trim()).slice(0, 12));
  logPath = join(workDir, 'mixed.log');
  writeFileSync(logPath, `${lines.join('\n')}\n`);
  const parser = new TemplateParser();
  const seen = new Set<string>();
  expected = lines.map((l) => {
    const id = parser.add(l).id;
    const via = seen.has(id) ? 'template' : 'model';
    seen.add(id);
    return { via, id };
  });
});

describe('logtriage classify --template-tier', () => {
  it('CSV has via and template_id on every row', async () => {
    expect(expected.filter((e) => e.via === 'template').length).toBeGreaterThanOrEqual(8);
    const run = await runCli(['classify', logPath, '--model', model, '--threads', '2', '--template-audit', '0', '--format', 'csv', '-q']);
    expect(run.code, run.stderr).toBe(0);
    const rows = parse(run.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => ({ via: r.via, id: r.template_id }))).toEqual(expected);
  });

  it('ECS documents carry logtriage.via and logtriage.template_id; the table has VIA and TEMPLATE', async () => {
    const [ecs, table] = await Promise.all([
      runCli(['classify', logPath, '--model', model, '--threads', '1', '--template-audit', '0', '--format', 'ecs', '-q']),
      runCli(['classify', logPath, '--model', model, '--threads', '1', '--template-audit', '0', '--format', 'table', '-q']),
    ]);
    expect(ecs.code, ecs.stderr).toBe(0);
    const docs = ecs.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { logtriage: { via: string; template_id: string } });
    expect(docs.map((d) => ({ via: d.logtriage.via, id: d.logtriage.template_id }))).toEqual(expected);
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^LINE\s+LABEL\s+SCORE\s+VIA\s+TEMPLATE\s+TEXT$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(3, 5))).toEqual(expected.map((e) => [e.via, e.id]));
  });
});
