// SPDX-License-Identifier: MIT
// The template of one raw log line. With a TemplateParser, the template the parser holds for the
// line after reading it (it learns: lines of one event converge on one template). Without one, the
// line's own masked form: header removed (splitHeader.ts), variables masked (maskVariables.ts) —
// what needs no other line, so two lines with the same masked form are surely one event, while one
// event whose lines differ in a word (a user name) has several masked forms until a parser merges them.
import { templateParserOptionsSchema } from '../options.js';
import { maskVariables } from './maskVariables.js';
import { sanitizeLine } from './sanitizeLine.js';
import { splitHeader } from './splitHeader.js';
import type { TemplateParser } from './TemplateParser.js';

const DEFAULT_MAX_LINE_LENGTH = templateParserOptionsSchema.parse({}).maxLineLength;

export function templateOf(line: string, parser?: TemplateParser): string {
  if (parser !== undefined) return parser.add(line).template;
  return maskVariables(splitHeader(sanitizeLine(line, DEFAULT_MAX_LINE_LENGTH)).message).join(' ');
}
