/**
 * A loopback load generator for the service (used by the load test and `npm run bench -- serve`):
 * N concurrent clients over keep-alive HTTP/1.1 connections, each submitting its share of forget
 * requests with its own Idempotency-Key, recording every latency. node:http with a keep-alive
 * agent keeps the client's own cost per request small, so the figures measure the service.
 */
import { Agent, request } from 'node:http';

export interface LoadResult {
  /** Request index → id returned. */
  ids: Map<number, string>;
  /** Latencies in ms, sorted. */
  latencies: number[];
  statuses: Map<number, number>;
  seconds: number;
}

export function post(
  agent: Agent,
  url: string,
  token: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { id?: string } }> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((ok, fail) => {
    const req = request(
      `${url}${path}`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': data.length,
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            ok({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) });
          } catch (e) {
            fail(e);
          }
        });
      },
    );
    req.on('error', fail);
    req.end(data);
  });
}

export const quantileOf = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

export async function submitLoad(o: {
  url: string;
  token: string;
  total: number;
  clients: number;
  body: (i: number) => unknown;
  key?: (i: number) => string;
}): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients });
  const ids = new Map<number, string>();
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.clients }, async () => {
      for (;;) {
        const i = next++;
        if (i >= o.total) return;
        const s = performance.now();
        const r = await post(
          agent,
          o.url,
          o.token,
          '/v1/requests',
          o.body(i),
          o.key ? { 'idempotency-key': o.key(i) } : {},
        );
        latencies.push(performance.now() - s);
        statuses.set(i, r.status);
        if (r.body.id) ids.set(i, r.body.id);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { ids, latencies, statuses, seconds };
}
