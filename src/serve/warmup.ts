/**
 * The start-up warm-up of the submission path. A freshly started Node process runs the request
 * path's JavaScript in V8's interpreter until the JIT has seen it run a few thousand times: the
 * first 1,000 submissions a service handled cost about 3x the service CPU of later ones (0.3–0.4
 * ms against ~0.1 ms) and had p99 latencies of 61–359 ms where a warm service's were 12–48 ms
 * (docs/serve.md). So before the service listens, startService sends scratch submissions through
 * the very server instance that will then serve (its routes, auth hook, zod validation, hashing,
 * group commit, and node's HTTP parser over loopback sockets) while every route's ledger is a
 * scratch in-memory SQLite database with a token of its own.
 *
 * Why this instance and real sockets: warming a second, throw-away fastify instance (or one driven
 * by inject()) left the real one at about twice the warm CPU per submission, since each instance
 * has its own request/reply classes and route closures that V8 optimises anew.
 *
 * What it leaves behind: nothing. The service's ledger is not touched (the routes see only the
 * scratch one until it ends), no request or id reaches its log, and its own address is not
 * opened: for the warm-up the HTTP server listens on a free port of 127.0.0.1, answers nothing
 * there but scratch submissions (503), and closes that port and every connection before the
 * scratch ledger is swapped out and discarded and the service listens on its address. Bounded by
 * a count and a time limit; a reply other than 202 ends it early (a warm-up is an optimisation,
 * never a reason not to start).
 */
import { Ledger } from './ledger.ts';
import { submitLoad } from './load.ts';
import { hashToken, newToken, type ServerHandle } from './server.ts';

export interface WarmUpOptions {
  /** Scratch submissions to send (in rounds of 500 over `concurrency` fresh connections). */
  submissions?: number;
  /** Concurrent keep-alive connections (group commits of about this size, as under load). */
  concurrency?: number;
  /** No new round after this long (ms). */
  maxMs?: number;
}

export interface WarmUpResult {
  submissions: number;
  ms: number;
  /** Why it ended before its count (time limit, or a reply that was not 202), or null. */
  stopped: string | null;
}

export const WARM_UP_DEFAULTS: Required<WarmUpOptions> = {
  submissions: 5000,
  concurrency: 50,
  maxMs: 2000,
};

const ROUND = 500;
/** Submissions sent through fetch before the rounds, and beside each round. */
const FETCHED = 50;
const FETCHED_PER_ROUND = 10;

/**
 * Submission i of the warm-up: made-up text in the shapes real requests take (documents and
 * question/answer pairs, one to three items, every kind), so the JIT's type feedback covers them
 * all (a path optimised for one shape is thrown away on the first request of another); every fifth
 * repeats the one before under the same Idempotency-Key (a client's retry).
 */
const source = (i: number) => (i % 5 === 4 ? i - 1 : i);
const KINDS = ['privacy', 'copyright', 'harm'] as const;
const body = (i: number) => {
  const j = source(i);
  const items = Array.from({ length: 1 + (j % 3) }, (_, n) =>
    (j + n) % 2 === 0
      ? { text: `warm-up item ${j}.${n}` }
      : { question: `warm-up question ${j}.${n}?`, answer: `warm-up answer ${j}.${n}` },
  );
  return { subject: `warm-up ${j}`, kind: KINDS[j % 3], items };
};

/**
 * `n` scratch submissions one after another through fetch, each followed by a GET of /healthz
 * (and with `getRequest`, of the request): how many were sent, and the first status not 202.
 */
async function viaFetch(
  url: string,
  token: string,
  n: number,
  first: number,
  getRequest: boolean,
): Promise<{ sent: number; bad: number | null }> {
  const auth = { authorization: `Bearer ${token}` };
  for (let i = 0; i < n; i++) {
    const post = await fetch(`${url}/v1/requests`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body(first + i)),
    });
    const { id } = (await post.json()) as { id?: string };
    if (post.status !== 202) return { sent: i + 1, bad: post.status };
    if (getRequest) await (await fetch(`${url}/v1/requests/${id}`, { headers: auth })).text();
    await (await fetch(`${url}/healthz`)).text();
  }
  return { sent: n, bad: null };
}

/** Run the warm-up through `server` (built, not yet listening). */
export async function warmUp(server: ServerHandle, opts: WarmUpOptions = {}): Promise<WarmUpResult> {
  const o = { ...WARM_UP_DEFAULTS, ...opts };
  const t0 = performance.now();
  const scratch = new Ledger(':memory:');
  const token = newToken();
  scratch.addToken(hashToken(token), 'submitter', 'warm-up');
  const { app } = server;
  const http = app.server;
  let submissions = 0;
  let stopped: string | null = null;
  server.useScratchLedger(scratch);
  try {
    await app.ready();
    await new Promise<void>((ok, fail) => {
      http.once('error', fail);
      http.listen(0, '127.0.0.1', () => {
        http.off('error', fail);
        ok();
      });
    });
    const addr = http.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    // First some through fetch, whose fuller header set (and GETs, answered 503 here) is what
    // ordinary clients send: request objects of shapes the JIT has not seen make it throw away
    // the code it built for the others on the first such request (and rebuild it later, under
    // load), so they come first, and a few more beside each round keep them in its feedback.
    const opening = await viaFetch(url, token, Math.min(FETCHED, o.submissions), 0, true);
    submissions += opening.sent;
    if (opening.bad !== null) stopped = `a scratch submission got ${opening.bad}`;
    while (submissions < o.submissions && stopped === null) {
      if (performance.now() - t0 > o.maxMs) {
        stopped = 'time limit';
        break;
      }
      const first = submissions;
      const n = Math.min(ROUND, o.submissions - submissions);
      const fetched = Math.min(FETCHED_PER_ROUND, n);
      const [r, f] = await Promise.all([
        n > fetched
          ? submitLoad({
              url,
              token,
              total: n - fetched,
              clients: Math.min(o.concurrency, n - fetched),
              body: (i) => body(first + i),
              key: (i) => `warm-up-${source(first + i)}`,
            })
          : null,
        viaFetch(url, token, fetched, first + n - fetched, false),
      ]);
      submissions += n - fetched + f.sent;
      const bad = f.bad ?? [...(r?.statuses.values() ?? [])].find((s) => s !== 202);
      if (bad !== undefined) stopped = `a scratch submission got ${bad}`;
    }
  } catch (e) {
    stopped = `failed: ${(e as Error).message}`;
  } finally {
    if (http.listening) {
      http.closeAllConnections();
      await new Promise<void>((done) => http.close(() => done()));
    }
    // Every reply was awaited, so nothing is left to commit; after a failure, one turn of the
    // event loop lets any handler still running finish (or useScratchLedger refuses to switch
    // and the service does not start) before the routes see the service's ledger.
    await new Promise((next) => setImmediate(next));
    server.useScratchLedger(null);
    scratch.close();
  }
  return { submissions, ms: performance.now() - t0, stopped };
}
