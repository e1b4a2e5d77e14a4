// SPDX-License-Identifier: MIT
// What a log record written by an attacker can do to the code that passes it on, checked once per
// record by the server's /ingest and the JetStream worker alike: JSON.parse reads a record
// nested thousands of levels deep (25 KB is 5,000 levels), but JSON.stringify, fastify's
// serializer and every other recursive walk then throw RangeError. Such a record is refused on
// its own, with this reason, before anything recursive touches it.

/** Deepest nesting of objects and arrays a record may have (Elasticsearch's own mapping limit is 20). */
export const MAX_RECORD_DEPTH = 100;

/** Why `value` cannot be passed on (nested deeper than MAX_RECORD_DEPTH), or undefined. Iterative: no stack. */
export function recordShapeProblem(value: unknown, maxDepth = MAX_RECORD_DEPTH): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > maxDepth) return `the record is nested deeper than ${maxDepth} levels`;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/** JSON text of `value`, or why it has none (a RangeError from depth, a BigInt, a cycle). */
export function serializeRecord(value: unknown): { json: string } | { problem: string } {
  try {
    return { json: JSON.stringify(value) };
  } catch (err) {
    return { problem: `the record cannot be written as JSON (${(err as Error).name}: ${(err as Error).message.slice(0, 120)})` };
  }
}
