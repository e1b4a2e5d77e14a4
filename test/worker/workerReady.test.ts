// SPDX-License-Identifier: MIT
// The worker's metrics port: GET /ready answers 503 with the reason notReady() gives (warming up,
// swapping, draining) and 200 otherwise, apart from GET /health.
import { describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { createWorkerMetrics, serveWorkerMetrics } from '../../src/worker/workerMetrics.js';

describe('serveWorkerMetrics() GET /ready', () => {
  it('follows notReady(), while /health follows healthy()', async () => {
    const metrics = createWorkerMetrics(['Normal', 'Error'], async () => undefined);
    let why: string | undefined = 'swapping the model';
    const server = await serveWorkerMetrics(metrics, () => true, 0, '127.0.0.1', () => why);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const swapping = await fetch(`${url}/ready`);
      expect(swapping.status).toBe(503);
      expect(await swapping.json()).toEqual({ error: 'swapping the model', error_type: 'unhealthy' });
      expect((await fetch(`${url}/health`)).status).toBe(200);
      why = undefined;
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
    } finally {
      server.close();
    }
  });
});
