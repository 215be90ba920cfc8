/**
 * A loopback load generator for the service (used by the load test and `npm run bench -- serve`):
 * N concurrent clients over keep-alive HTTP/1.1 connections, each submitting its share of forget
 * requests with its own Idempotency-Key, recording every latency (from building the request to
 * the last byte of the reply). The client is a few lines over raw sockets rather than node:http, so
 * that its own cost per request stays small and the figures measure the service.
 */
import { connect, type Socket } from 'node:net';

export interface LoadResult {
  /** Request index → id returned. */
  ids: Map<number, string>;
  /** Latencies in ms, sorted. */
  latencies: number[];
  statuses: Map<number, number>;
  seconds: number;
}

export const quantileOf = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

/**
 * One keep-alive HTTP/1.1 connection to the service, sending one request at a time: the request
 * written as bytes, the reply read by its Content-Length. A load generator on the same 2 cores as
 * the service must cost little per request, or it measures itself: node:http's client spends a few
 * hundred microseconds per request in the generator's event loop, this one a few tens.
 */
class Connection {
  private socket: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { ok: (r: { status: number; body: string }) => void; fail: (e: Error) => void } | null =
    null;
  private closed: Error | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.parse();
    });
    const end = (e: Error) => {
      this.closed = e;
      this.waiting?.fail(e);
      this.waiting = null;
    };
    socket.on('error', end);
    socket.on('close', () => end(new Error('the service closed the connection')));
  }

  static open(host: string, port: number): Promise<Connection> {
    return new Promise((ok, fail) => {
      const s = connect({ host, port }, () => {
        s.off('error', fail);
        ok(new Connection(s));
      });
      s.once('error', fail);
    });
  }

  private parse(): void {
    const head = this.buf.indexOf('\r\n\r\n');
    if (head < 0 || !this.waiting) return;
    const lines = this.buf.toString('latin1', 0, head).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    let length = -1;
    for (const l of lines) {
      if (/^content-length:/i.test(l)) length = Number(l.slice(15).trim());
      if (/^transfer-encoding:/i.test(l)) {
        this.waiting.fail(new Error('load generator: chunked replies are not supported'));
        this.waiting = null;
        return;
      }
    }
    if (length < 0 || this.buf.length < head + 4 + length) return;
    const body = this.buf.toString('utf8', head + 4, head + 4 + length);
    this.buf = this.buf.subarray(head + 4 + length);
    const w = this.waiting;
    this.waiting = null;
    w.ok({ status, body });
  }

  send(data: Buffer): Promise<{ status: number; body: string }> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((ok, fail) => {
      this.waiting = { ok, fail };
      this.socket.write(data);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export async function submitLoad(o: {
  url: string;
  token: string;
  total: number;
  clients: number;
  body: (i: number) => unknown;
  key?: (i: number) => string;
}): Promise<LoadResult> {
  const { hostname, port, host } = new URL(o.url);
  const conns = await Promise.all(
    Array.from({ length: o.clients }, () => Connection.open(hostname, Number(port))),
  );
  /** The bytes of request i (built inside its measured time, to err on the slow side). */
  const requestBytes = (i: number): Buffer => {
    const body = Buffer.from(JSON.stringify(o.body(i)));
    const key = o.key ? `idempotency-key: ${o.key(i)}\r\n` : '';
    const head =
      `POST /v1/requests HTTP/1.1\r\nhost: ${host}\r\nauthorization: Bearer ${o.token}\r\n` +
      `content-type: application/json\r\ncontent-length: ${body.length}\r\n${key}\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), body]);
  };
  const ids = new Map<number, string>();
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  try {
    await Promise.all(
      conns.map(async (conn) => {
        for (;;) {
          const i = next++;
          if (i >= o.total) return;
          const s = performance.now();
          const r = await conn.send(requestBytes(i));
          latencies.push(performance.now() - s);
          statuses.set(i, r.status);
          const id = (JSON.parse(r.body) as { id?: unknown }).id;
          if (typeof id === 'string') ids.set(i, id);
        }
      }),
    );
  } finally {
    for (const c of conns) c.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { ids, latencies, statuses, seconds };
}
