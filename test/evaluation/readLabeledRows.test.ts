// SPDX-License-Identifier: MIT
// Reading labeled sets: JSONL and CSV, custom field names, and errors that name the row.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { formatFromPath, readLabeledRows } from '../../src/evaluation/readLabeledRows.js';
import { artifactsDir } from '../fixtures/index.js';

const dir = join(artifactsDir, 'labeled-rows');
mkdirSync(dir, { recursive: true });
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const defaults = { textField: 'text', labelField: 'label' };

describe('readLabeledRows()', () => {
  it('reads JSON Lines with a BOM, CRLF and blank lines, numbering rows by line', async () => {
    const path = file('ok.jsonl', '\uFEFF{"text":"disk full","label":"Error"}\r\n\r\n{"text":"a \\"quoted\\" line","label":"normal","extra":1}\n');
    expect(await readLabeledRows(path, defaults)).toEqual([
      { where: 'line 1', text: 'disk full', label: 'Error' },
      { where: 'line 3', text: 'a "quoted" line', label: 'normal' },
    ]);
  });

  it("keeps the mode `logtriage label` records (JSONL field or CSV column), and reads a mode that is not a non-empty string as none", async () => {
    const jsonl = file(
      'modes.jsonl',
      ['{"text":"a","label":"Error","mode":"random"}', '{"text":"b","label":"Error","mode":"uncertain"}', '{"text":"c","label":"Error","mode":3}', '{"text":"d","label":"Error","mode":""}', '{"text":"e","label":"Error"}'].join('\n'),
    );
    expect((await readLabeledRows(jsonl, defaults)).map((r) => r.mode)).toEqual(['random', 'uncertain', undefined, undefined, undefined]);
    expect(Object.hasOwn((await readLabeledRows(jsonl, defaults))[4]!, 'mode')).toBe(false);
    const csv = file('modes.csv', 'text,label,mode\na,Error,random\nb,Error,\n');
    expect(await readLabeledRows(csv, defaults)).toEqual([
      { where: 'record 1', text: 'a', label: 'Error', mode: 'random' },
      { where: 'record 2', text: 'b', label: 'Error' },
    ]);
  });

  it('reads CSV with a header, quoted fields over several lines and mixed record endings', async () => {
    const path = file('ok.csv', '\uFEFFid,message,severity\r\n1,"GET /a, 200",Normal\r\n2,"stack:\nline two",Error\n\n3,plain,Suspicious\r4,last,Normal');
    expect(await readLabeledRows(path, { textField: 'message', labelField: 'severity' })).toEqual([
      { where: 'record 1', text: 'GET /a, 200', label: 'Normal' },
      { where: 'record 2', text: 'stack:\nline two', label: 'Error' },
      { where: 'record 3', text: 'plain', label: 'Suspicious' },
      { where: 'record 4', text: 'last', label: 'Normal' },
    ]);
  });

  it('takes the format from --format over the extension, and refuses an unknown extension', async () => {
    const path = file('rows.txt', 'text,label\nx,Normal\n');
    expect(await readLabeledRows(path, { ...defaults, format: 'csv' })).toHaveLength(1);
    await expect(readLabeledRows(path, defaults)).rejects.toThrow(/Cannot tell the format of .*rows\.txt.*--format jsonl\|csv/);
    expect(formatFromPath('a.NDJSON')).toBe('jsonl');
  });

  it('names the line and the fields present when a JSONL field is missing or not a string', async () => {
    const missing = file('missing.jsonl', '{"text":"a","label":"Normal"}\n{"msg":"b","label":"Normal"}\n');
    await expect(readLabeledRows(missing, defaults)).rejects.toThrow(/missing\.jsonl, line 2: no text field "text" \(fields present: "msg", "label"\)/);
    const numeric = file('numeric.jsonl', '{"text":"a","label":3}\n');
    await expect(readLabeledRows(numeric, defaults)).rejects.toThrow(/line 1: expected a string for label field "label" but received a number/);
  });

  it('names the line of invalid JSON and of a value that is not an object', async () => {
    await expect(readLabeledRows(file('bad.jsonl', '{"text":"a","label":"x"}\n{"text": oops}\n'), defaults)).rejects.toThrow(/bad\.jsonl, line 2: not valid JSON/);
    await expect(readLabeledRows(file('array.jsonl', '["a","b"]\n'), defaults)).rejects.toThrow(/line 1: expected a JSON object but received an array/);
  });

  it('refuses empty text, a CSV header without the columns, a ragged CSV, no rows and a missing file', async () => {
    await expect(readLabeledRows(file('blank.jsonl', '{"text":"  ","label":"Normal"}\n'), defaults)).rejects.toThrow(/line 1: the text is empty/);
    const header = readLabeledRows(file('header.csv', 'message,label\nx,Normal\n'), defaults);
    await expect(header).rejects.toBeInstanceOf(ValidationError);
    await expect(header).rejects.toThrow(/header\.csv: the header has no column "text" \(columns: "message", "label"\)/);
    await expect(readLabeledRows(file('ragged.csv', 'text,label\nx,Normal\ny\n'), defaults)).rejects.toThrow(/ragged\.csv: Invalid Record Length/);
    await expect(readLabeledRows(file('empty.csv', 'text,label\n'), defaults)).rejects.toThrow(/empty\.csv has no labeled rows/);
    await expect(readLabeledRows(join(dir, 'absent.jsonl'), defaults)).rejects.toThrow(/Labeled file not found: .*absent\.jsonl/);
  });

  it('refuses a JSONL line or CSV record longer than maxLineBytes, naming it', async () => {
    const long = 'x'.repeat(200);
    const jsonl = file('long.jsonl', `{"text":"a","label":"Normal"}\n{"text":"${long}","label":"Normal"}\n`);
    await expect(readLabeledRows(jsonl, { ...defaults, maxLineBytes: 100 })).rejects.toThrow(/long\.jsonl, line 2: longer than 100 bytes \(--max-line-bytes\)/);
    expect(await readLabeledRows(jsonl, { ...defaults, maxLineBytes: 1000 })).toHaveLength(2);
    const csv = file('long.csv', `text,label\na,Normal\n"${long}",Normal\n`);
    const refused = readLabeledRows(csv, { ...defaults, maxLineBytes: 100 });
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toThrow(/long\.csv, line 3: a record longer than 100 bytes \(--max-line-bytes\)/);
  });
});
