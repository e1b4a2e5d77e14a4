// SPDX-License-Identifier: MIT
// TemplateParser: lines of one event share a template, ids are deterministic and stable, the least
// recently used template goes past maxTemplates, hostile lines cost bounded memory, bad options
// throw ValidationError. (Grouping accuracy on the loghub samples: groupingAccuracy.test.ts.)
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { readLogLines } from '../../src/lines/readLogLines.js';
import { TemplateParser } from '../../src/templates/TemplateParser.js';
import { templateOf } from '../../src/templates/templateOf.js';

const SSH = [
  'Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186',
  'Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2',
  'Dec 10 07:02:47 LabSZ sshd[24203]: Invalid user test9 from 52.80.34.196',
  'Dec 10 07:07:38 LabSZ sshd[24206]: Invalid user admin from 103.99.0.122',
  'Dec 10 07:08:28 LabSZ sshd[24208]: Failed password for invalid user oracle from 103.99.0.122 port 52683 ssh2',
];

describe('TemplateParser#add()', () => {
  it('gives the lines of one event one template, with the header left out and the variables masked', () => {
    const parser = new TemplateParser();
    const matches = SSH.map((l) => parser.add(l));
    expect(matches.map((m) => m.created)).toEqual([true, true, false, false, false]);
    expect(matches[3]!.id).toBe(matches[0]!.id);
    expect(matches[4]!.id).toBe(matches[1]!.id);
    expect(matches[3]!.template).toBe('Invalid user <*> from <*>');
    expect(matches[4]!.template).toBe('Failed password for invalid user <*> from <*> port <*>');
    expect(matches[0]!.header).toBe('Dec 10 06:55:46 LabSZ sshd[24200]:');
    expect(parser.templates()).toEqual([
      { id: matches[0]!.id, template: 'Invalid user <*> from <*>', count: 3 },
      { id: matches[1]!.id, template: 'Failed password for invalid user <*> from <*> port <*>', count: 2 },
    ]);
    expect(parser.lines).toBe(5);
  });

  it('is deterministic: the same lines give the same ids and templates, and an id does not depend on the lines before', () => {
    const run = () => {
      const parser = new TemplateParser();
      return SSH.map((l) => parser.add(l));
    };
    expect(run()).toEqual(run());
    const other = new TemplateParser();
    other.add('kernel: Out of memory: Killed process 4242');
    expect(other.add(SSH[0]!).id).toBe(run()[0]!.id);
    expect(run()[0]!.id).toMatch(/^[0-9a-f]{8}$/);
  });

  it('evicts the least recently used template past maxTemplates; a line of it later starts a new one', () => {
    const parser = new TemplateParser({ maxTemplates: 2 });
    const a = parser.add('alpha started worker 1');
    const b = parser.add('beta stopped queue 7');
    parser.add('alpha started worker 2'); // a is now the most recently used
    const c = parser.add('gamma flushed cache 3'); // evicts b
    expect(parser.size).toBe(2);
    expect(parser.evicted).toBe(1);
    expect(parser.templates().map((t) => t.id).sort()).toEqual([a.id, c.id].sort());
    const again = parser.add('beta stopped queue 8');
    expect(again.created).toBe(true);
    expect(again.count).toBe(1);
    expect(parser.templates().map((t) => t.id)).not.toContain(a.id); // a was the least recently used then
    expect(parser.size).toBe(2);
  });

  it('sends a 100 kB line, ANSI escapes and control characters through without keeping more than maxLineLength per template', () => {
    const parser = new TemplateParser({ maxTemplates: 10, maxLineLength: 256 });
    for (let i = 0; i < 200; i++) {
      // 200 distinct 100 kB lines: at most 10 templates of at most 256 characters stay.
      const word = `w${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`;
      parser.add(`${word} ${'x'.repeat(50_000)} ${'y '.repeat(25_000)}`);
    }
    expect(parser.size).toBe(10);
    for (const t of parser.templates()) expect(t.template.length).toBeLessThanOrEqual(256);
    const plain = parser.add('user root logged in from 10.0.0.1');
    const coloured = parser.add('\x1b[32muser\x1b[0m root \x1b]8;;http://x\x07logged\x1b]8;;\x07 in from \x1b[1m10.0.0.2\x1b[0m');
    expect(coloured.id).toBe(plain.id);
    expect(parser.add('user root\x00 logged\x07 in from 10.0.0.3').id).toBe(plain.id);
  });

  it('reads invalid UTF-8 (as the line reader decodes it, U+FFFD) like any other text', async () => {
    const bytes = Buffer.concat([Buffer.from('session opened for user '), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from(' by (uid=0)\n')]);
    const lines = [];
    for await (const line of readLogLines(Readable.from([bytes, bytes]))) lines.push(line);
    expect(lines.map((l) => l.invalidUtf8)).toEqual([true, true]);
    const parser = new TemplateParser();
    const [first, second] = lines.map((l) => parser.add(l.text));
    expect(second!.id).toBe(first!.id);
    expect(first!.template).toContain('\uFFFD');
  });

  it('keeps an empty or blank line as the empty template', () => {
    const parser = new TemplateParser();
    expect(parser.add('').template).toBe('');
    expect(parser.add('   ').id).toBe(parser.add('').id);
  });
});

describe('new TemplateParser()', () => {
  it('throws ValidationError for a bad option, naming it (and the option meant)', () => {
    expect(() => new TemplateParser({ maxTemplates: 0 })).toThrow(ValidationError);
    expect(() => new TemplateParser({ similarity: 1.5 })).toThrow(/similarity/);
    expect(() => new TemplateParser({ maxTemplate: 5 } as never)).toThrow(/did you mean 'maxTemplates'/);
  });

  it('has the documented defaults', () => {
    expect(new TemplateParser().options).toEqual({ maxTemplates: 10_000, similarity: 0.7, maxLineLength: 2048, maxChildren: 100 });
  });
});

describe('templateOf()', () => {
  it('without a parser: the line alone, header removed and variables masked', () => {
    expect(templateOf('2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001')).toBe(
      'Created MRAppMaster for application appattempt_<*>',
    );
    expect(templateOf(SSH[0]!)).toBe('Invalid user webmaster from <*>');
  });

  it("with a parser: the parser's template after reading the line", () => {
    const parser = new TemplateParser();
    templateOf(SSH[0]!, parser);
    expect(templateOf(SSH[2]!, parser)).toBe('Invalid user <*> from <*>');
  });
});
