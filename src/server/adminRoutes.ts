// SPDX-License-Identifier: MIT
// `POST /admin/model {path}`: swaps the served model (ModelSlot.swap: verified, loaded beside the
// old one and warmed; requests in flight finish on the old one). Refused on a server without an
// API key (the onRequest hook already requires the key where there is one). A model that fails
// to load leaves the old one serving; the answer is a 422 naming the library error.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LogTriageError } from '../errors.js';
import { parseOptions } from '../options.js';
import type { RouteContext } from './ClassifyGate.js';
import { HttpError } from './errors.js';

const swapRequestSchema = z.object({ path: z.string().min(1).max(4096) }).strict();

export function registerAdminRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/admin/model', async (request) => {
    if (ctx.options.apiKey === undefined) {
      throw new HttpError('not_found', 'POST /admin/model needs an API key (--api-key): this server refuses model swaps without one');
    }
    const { path } = parseOptions(swapRequestSchema, request.body, 'request body');
    const before = ctx.classifier.info.verification.model;
    const started = performance.now();
    try {
      const next = await ctx.slot.swap(path);
      const info = next.info;
      request.log.info({ path, from: before, to: info.verification.model }, 'model swapped');
      return { status: 'swapped', model: info.verification.model, previous: before, labels: next.labels, weight_type: info.weightType, seconds: (performance.now() - started) / 1000 };
    } catch (err) {
      request.log.error({ err, path }, 'model swap failed: the old model keeps serving');
      const code = err instanceof LogTriageError ? `${err.name} (${err.code})` : 'Error';
      throw new HttpError('validation', `the swap to ${path} failed, ${before} keeps serving: ${code}: ${(err as Error).message}`);
    }
  });
}
