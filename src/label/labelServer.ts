// SPDX-License-Identifier: MIT
// The labeling server: node:http on 127.0.0.1 only, a random 128-bit token that every route
// requires (the page's URL carries it; its calls send it in `x-logtriage-token`), and a Host
// check so a web page elsewhere cannot reach it through DNS rebinding. Routes: GET / (the page,
// token in the query), GET /api/state, POST /api/label {index, label}, POST /api/skip {index}, POST /api/undo {}.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogTriageError } from '../errors.js';
import { renderLabelPage } from './labelPage.js';
import type { LabelSession } from './LabelSession.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface LabelServer {
  /** The page's address, token included. */
  url: string;
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? JSON.stringify(body) : String(body);
  res.writeHead(status, {
    'content-type': `${type}; charset=utf-8`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // The page runs its own inline script and talks to this origin only.
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'",
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk);
  }
  const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
  return value as Record<string, unknown>;
}

/** Serves `session` on 127.0.0.1 (`port` 0: any free port). */
export async function startLabelServer(session: LabelSession, options: { port?: number } = {}): Promise<LabelServer> {
  const token = randomBytes(16).toString('hex');
  const expected = Buffer.from(token);
  const tokenOk = (given: string | null | undefined) => typeof given === 'string' && given.length === token.length && timingSafeEqual(Buffer.from(given), expected);
  let port = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const host = req.headers.host ?? '';
      if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return send(res, 403, { error: 'wrong Host header' });
      if (req.method === 'GET' && url.pathname === '/') {
        if (!tokenOk(url.searchParams.get('token'))) return send(res, 403, { error: 'missing or wrong token' });
        return send(res, 200, renderLabelPage(), 'text/html');
      }
      if (!tokenOk(req.headers['x-logtriage-token'] as string | undefined)) return send(res, 403, { error: 'missing or wrong token' });
      try {
        if (req.method === 'GET' && url.pathname === '/api/state') return send(res, 200, session.state());
        if (req.method === 'POST' && (url.pathname === '/api/label' || url.pathname === '/api/skip')) {
          const body = await readJson(req);
          const index = body.index;
          if (typeof index !== 'number' || !Number.isInteger(index)) return send(res, 422, { error: 'index must be an integer' });
          if (url.pathname === '/api/skip') return send(res, 200, session.skip(index));
          if (typeof body.label !== 'string') return send(res, 422, { error: 'label must be a string' });
          return send(res, 200, await session.label(index, body.label));
        }
        if (req.method === 'POST' && url.pathname === '/api/undo') {
          await readJson(req);
          return send(res, 200, await session.undo());
        }
        return send(res, 404, { error: 'not found' });
      } catch (err) {
        const status = (err as { status?: number }).status ?? (err instanceof LogTriageError ? 409 : err instanceof SyntaxError ? 400 : 500);
        return send(res, status, { error: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
