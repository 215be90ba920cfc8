/**
 * The HTTP API (fastify). Every route but /healthz needs `Authorization: Bearer TOKEN`; the token's
 * sha256 is looked up in the ledger (401 when missing or unknown), and each route names the roles
 * it admits (403 otherwise). Submitters see only their own requests; auditors see everything;
 * admins also roll back. Bodies are validated with zod (400/413 with field paths); nothing a
 * request carries is ever logged.
 */
import { createHash, randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { canonicalJson } from '../data/hash.ts';
import { LetheError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { generate } from '../text/generate.ts';
import { loadPretrained } from '../text/pretrained.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { generateBodySchema, requestBodySchema, validateBody } from './api-schemas.ts';
import { type Certificate, certificateHtml, itemHash } from './certificate.ts';
import type { InsertResult, Ledger, NewRequest, RequestRow, Role } from './ledger.ts';
import { ledgerPage } from './page.ts';
import type { Policy } from './policy.ts';

export const hashToken = (token: string): string =>
  createHash('sha256').update(`lethe-token-v1\n${token}`).digest('hex');
export const newToken = (): string => `lethe_${randomBytes(24).toString('base64url')}`;

interface Caller {
  id: number;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

/**
 * Group commit: submissions that arrive in the same turn of the event loop are written in one
 * transaction (one WAL append instead of one per request); each reply is sent after its commit.
 */
class GroupCommit {
  private pending: { r: NewRequest; ok: (x: InsertResult) => void; fail: (e: unknown) => void }[] = [];
  constructor(private ledger: () => Ledger) {}

  get idle(): boolean {
    return this.pending.length === 0;
  }

  add(r: NewRequest): Promise<InsertResult> {
    return new Promise((ok, fail) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ r, ok, fail });
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    try {
      const results = this.ledger().insertRequests(batch.map((p) => p.r));
      batch.forEach((p, i) => p.ok(results[i]));
    } catch (e) {
      for (const p of batch) p.fail(e);
    }
  }
}

/** How long a token found in the ledger is trusted without asking it again (ms). */
export const TOKEN_CACHE_MS = 5000;

/**
 * Token hash → caller, for TOKEN_CACHE_MS after the ledger last confirmed it: one SQLite read
 * (a WAL read transaction) per request was about an eighth of a warm submission's time in a CPU
 * profile of the service under the benchmark's load (17 of 128 ms). Only tokens the
 * ledger knows are cached, so a token added meanwhile (`lethe serve token add`, another process)
 * works at once; a row changed or deleted in the ledger takes effect within TOKEN_CACHE_MS.
 */
class TokenCache {
  private known = new Map<string, { caller: Caller; until: number }>();

  lookup(ledger: Ledger, hash: string): Caller | null {
    const now = performance.now();
    const hit = this.known.get(hash);
    if (hit && hit.until > now) return hit.caller;
    const tok = ledger.tokenByHash(hash);
    if (tok) this.known.set(hash, { caller: tok, until: now + TOKEN_CACHE_MS });
    else this.known.delete(hash);
    return tok;
  }

  clear(): void {
    this.known.clear();
  }
}

/**
 * Request ids (`req_` + 20 hex digits) cut from a pool of random bytes refilled 4 KiB at a time:
 * one randomBytes call per request cost more than the ids need.
 */
class IdPool {
  private pool = Buffer.alloc(0);
  private at = 0;

  next(): string {
    if (this.at + 10 > this.pool.length) {
      this.pool = randomBytes(4096);
      this.at = 0;
    }
    const id = `req_${this.pool.toString('hex', this.at, this.at + 10)}`;
    this.pool.fill(0, this.at, this.at + 10); // used bytes are not kept
    this.at += 10;
    return id;
  }
}

export interface ServerOptions {
  ledger: Ledger;
  policy: Policy;
  /** Facts for /healthz (worker state). */
  health: () => Record<string, unknown>;
  /** Called after a request is queued, so the worker can look at once. */
  onQueued?: () => void;
}

function publicRequest(r: RequestRow) {
  return {
    id: r.id,
    subject: r.subject,
    kind: r.kind,
    status: r.status,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    items: r.itemHashes.length,
    ...(r.modelVersion !== null ? { modelVersion: r.modelVersion } : {}),
    ...(r.reason !== null ? { reason: r.reason } : {}),
    ...(r.certificate !== null ? { certificate: r.certificate } : {}),
  };
}

export interface ServerHandle {
  app: FastifyInstance;
  /**
   * Send every ledger access of every route to `scratch` (for the start-up warm-up,
   * src/serve/warmup.ts), or back to the service's ledger (null). Only while no submission is
   * being committed; the token cache is emptied either way.
   */
  useScratchLedger(scratch: Ledger | null): void;
}

export function buildServer(o: ServerOptions): FastifyInstance {
  return buildServerHandle(o).app;
}

export function buildServerHandle(o: ServerOptions): ServerHandle {
  const { policy } = o;
  /** The ledger every route uses: the service's, but a scratch one during the warm-up. */
  let ledger = o.ledger;
  let scratch = false;
  const app = Fastify({ logger: false, bodyLimit: policy.limits.maxBodyBytes });
  const requestSchema = requestBodySchema(policy.limits);
  const generateSchema = generateBodySchema(policy.limits);
  let loaded: { version: number; model: CausalLM; tokenizer: Tokenizer } | null = null;
  const inserts = new GroupCommit(() => ledger);
  const tokens = new TokenCache();
  const ids = new IdPool();

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413)
      return reply.code(413).send({ error: 'request body too large', limit: policy.limits.maxBodyBytes });
    if (status >= 400 && status < 500) return reply.code(status).send({ error: err.message });
    if (err instanceof LetheError) return reply.code(400).send({ error: err.message });
    // Never echo internals (or anything the request carried) into the log or the response.
    process.stderr.write(`serve: internal error (${err.code ?? err.name})\n`);
    return reply.code(500).send({ error: 'internal error' });
  });

  app.addHook('onRequest', async (req, reply) => {
    // The warm-up's port serves scratch submissions and nothing else (not even /healthz).
    if (scratch && !(req.method === 'POST' && req.url === '/v1/requests'))
      return reply.code(503).send({ error: 'the service is starting' });
    if (req.url === '/healthz') return;
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    const tok = m ? tokens.lookup(ledger, hashToken(m[1])) : null;
    if (!tok) {
      reply.header('www-authenticate', 'Bearer');
      return reply.code(401).send({ error: m ? 'unknown token' : 'missing Authorization: Bearer TOKEN' });
    }
    req.caller = tok;
  });

  const allow = (req: FastifyRequest, reply: FastifyReply, roles: Role[]): boolean => {
    if (roles.includes(req.caller!.role)) return true;
    reply
      .code(403)
      .send({ error: `this needs the role ${roles.join(' or ')}; the token has ${req.caller!.role}` });
    return false;
  };
  /** A request the caller may see, or null (404): submitters see only their own. */
  const visible = (req: FastifyRequest, id: string): RequestRow | null => {
    const r = ledger.request(id);
    if (!r) return null;
    if (req.caller!.role === 'submitter' && r.tokenId !== req.caller!.id) return null;
    return r;
  };

  app.get('/healthz', async () => ({ ok: true, currentVersion: ledger.currentVersion(), ...o.health() }));

  app.post('/v1/requests', async (req, reply) => {
    if (!allow(req, reply, ['submitter', 'admin'])) return;
    const v = validateBody(requestSchema, req.body);
    if (!v.ok) return reply.code(v.status).send({ error: 'invalid request body', issues: v.issues });
    const keyHeader = req.headers['idempotency-key'];
    const key = typeof keyHeader === 'string' && keyHeader.length > 0 ? keyHeader : null;
    if (key !== null && key.length > 200)
      return reply.code(400).send({
        error: 'invalid header',
        issues: [{ path: 'Idempotency-Key', message: 'at most 200 characters' }],
      });
    const bodyHash = createHash('sha256').update(canonicalJson(v.value)).digest('hex');
    const { row, created } = await inserts.add({
      id: ids.next(),
      tokenId: req.caller!.id,
      subject: v.value.subject,
      kind: v.value.kind,
      idempotencyKey: key,
      bodyHash,
      items: v.value.items,
      itemHashes: v.value.items.map(itemHash),
    });
    if (!created && row.bodyHash !== bodyHash) {
      return reply
        .code(409)
        .send({ error: 'this Idempotency-Key was used with a different body', id: row.id });
    }
    if (created && !scratch) o.onQueued?.();
    return reply.code(202).send({ id: row.id, status: row.status });
  });

  app.get('/v1/requests', async (req) => {
    const mine = req.caller!.role === 'submitter' ? req.caller!.id : undefined;
    return { requests: ledger.requests({ tokenId: mine }).map(publicRequest) };
  });

  app.get<{ Params: { id: string } }>('/v1/requests/:id', async (req, reply) => {
    const r = visible(req, req.params.id);
    if (!r) return reply.code(404).send({ error: `no request ${req.params.id}` });
    return publicRequest(r);
  });

  app.get<{ Params: { id: string } }>('/v1/requests/:id/certificate', async (req, reply) => {
    const r = visible(req, req.params.id);
    if (!r) return reply.code(404).send({ error: `no request ${req.params.id}` });
    if (r.certificate === null)
      return reply.code(404).send({ error: `request ${r.id} has no certificate (status ${r.status})` });
    if ((req.headers.accept ?? '').includes('text/html'))
      return reply.type('text/html; charset=utf-8').send(certificateHtml(r.certificate as Certificate));
    return r.certificate;
  });

  app.get('/v1/models', async () => ({
    current: ledger.currentVersion(),
    versions: ledger.versions().map((v) => ({
      version: v.version,
      parent: v.parent,
      hash: v.hash,
      method: v.method,
      settings: v.settings,
      metrics: v.metrics,
      requests: v.requests,
      createdAt: v.createdAt,
      rolledBack: v.rolledBack,
    })),
  }));

  app.post<{ Params: { version: string } }>('/v1/models/:version/rollback', async (req, reply) => {
    if (!allow(req, reply, ['admin'])) return;
    const n = Number(req.params.version);
    if (!Number.isInteger(n) || !ledger.version(n))
      return reply.code(404).send({ error: `no model version ${req.params.version}` });
    try {
      const r = ledger.rollback(n, `by admin token ${req.caller!.id}`);
      return { current: n, ...r };
    } catch (e) {
      return reply.code(409).send({ error: (e as Error).message.split('\n')[0] });
    }
  });

  app.post('/v1/generate', async (req, reply) => {
    const v = validateBody(generateSchema, req.body);
    if (!v.ok) return reply.code(v.status).send({ error: 'invalid request body', issues: v.issues });
    const version = ledger.currentVersion()!;
    if (loaded?.version !== version) {
      const p = await loadPretrained(ledger.version(version)!.dir);
      loaded = { version, model: p.model, tokenizer: p.tokenizer };
    }
    const { model, tokenizer } = loaded;
    const out = generate(model, [tokenizer.encode(v.value.prompt, { addSpecialTokens: true })], {
      maxNewTokens: v.value.maxNewTokens ?? 32,
      eosTokenIds: tokenizer.eosId === undefined ? [] : [tokenizer.eosId],
      decode: (t) => tokenizer.decode(t, { skipSpecialTokens: true }),
    });
    return { modelVersion: version, completion: out.texts![0], finish: out.finishReasons[0] };
  });

  app.get('/', async (req, reply) => {
    const mine = req.caller!.role === 'submitter' ? req.caller!.id : undefined;
    return reply.type('text/html; charset=utf-8').send(
      ledgerPage({
        role: req.caller!.role,
        current: ledger.currentVersion(),
        requests: ledger.requests({ tokenId: mine, limit: 500 }),
        versions: ledger.versions(),
        batches: mine === undefined ? ledger.batches(50) : [],
      }),
    );
  });

  return {
    app,
    useScratchLedger(l: Ledger | null) {
      if (!inserts.idle) throw new Error('cannot switch the ledger while submissions are being committed');
      ledger = l ?? o.ledger;
      scratch = l !== null;
      tokens.clear();
    },
  };
}
