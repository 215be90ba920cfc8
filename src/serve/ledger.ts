/**
 * The service's ledger: one SQLite file (better-sqlite3, WAL) holding tokens (hashes only),
 * forget requests, batches, published model versions and service settings (the HMAC key, the
 * current version). Schema changes are numbered migrations applied in order inside a
 * transaction, so an old ledger is upgraded in place and a half-applied migration never stays.
 *
 * Promises: every state change the worker makes is one transaction, so a kill -9 leaves the ledger
 * at a consistent point; raw items are stored only while their request is queued or running and
 * are erased (secure_delete zeroes the freed pages) once the batch is published or rejected.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { ConfigError } from '../errors.ts';

export type Role = 'submitter' | 'auditor' | 'admin';
export const ROLES: readonly Role[] = ['submitter', 'auditor', 'admin'];

export type RequestStatus = 'queued' | 'running' | 'verified' | 'rejected' | 'needs-retraining' | 'failed';
export type RequestKind = 'privacy' | 'copyright' | 'harm';

/** One item of a request: a document, or a question with its answer. */
export type RequestItem = { text: string } | { question: string; answer: string };

export interface RequestRow {
  id: string;
  tokenId: number;
  subject: string;
  kind: RequestKind;
  status: RequestStatus;
  idempotencyKey: string | null;
  bodyHash: string;
  items: RequestItem[] | null;
  itemHashes: string[];
  batchId: number | null;
  modelVersion: number | null;
  certificate: unknown | null;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewRequest {
  id: string;
  tokenId: number;
  subject: string;
  kind: RequestKind;
  idempotencyKey: string | null;
  bodyHash: string;
  items: RequestItem[];
  itemHashes: string[];
}

export interface InsertResult {
  row: RequestRow;
  created: boolean;
}

export interface VersionRow {
  version: number;
  parent: number | null;
  dir: string;
  hash: string;
  batchId: number | null;
  method: string | null;
  settings: Record<string, unknown> | null;
  metrics: unknown;
  requests: string[];
  createdAt: string;
  rolledBack: boolean;
}

export interface BatchRow {
  id: number;
  status: 'running' | 'published' | 'rejected' | 'interrupted' | 'stale' | 'failed';
  baseVersion: number;
  requests: string[];
  attempts: unknown[];
  createdAt: string;
  updatedAt: string;
}

/** Numbered migrations; the ledger's user_version says how many have been applied. */
const MIGRATIONS: string[] = [
  `CREATE TABLE tokens (
     id INTEGER PRIMARY KEY,
     hash TEXT NOT NULL UNIQUE,
     role TEXT NOT NULL CHECK (role IN ('submitter','auditor','admin')),
     label TEXT,
     created_at TEXT NOT NULL
   );
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE requests (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     token_id INTEGER NOT NULL REFERENCES tokens(id),
     subject TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     idempotency_key TEXT,
     body_hash TEXT NOT NULL,
     items TEXT,
     item_hashes TEXT NOT NULL,
     batch_id INTEGER,
     model_version INTEGER,
     certificate TEXT,
     reason TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     UNIQUE (token_id, idempotency_key)
   );
   CREATE INDEX requests_status ON requests (status, seq);
   CREATE TABLE batches (
     id INTEGER PRIMARY KEY,
     status TEXT NOT NULL,
     base_version INTEGER NOT NULL,
     requests TEXT NOT NULL,
     attempts TEXT NOT NULL DEFAULT '[]',
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE versions (
     version INTEGER PRIMARY KEY,
     parent INTEGER,
     dir TEXT NOT NULL,
     hash TEXT NOT NULL,
     batch_id INTEGER,
     method TEXT,
     settings TEXT,
     metrics TEXT,
     requests TEXT NOT NULL DEFAULT '[]',
     created_at TEXT NOT NULL,
     rolled_back INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE events (
     id INTEGER PRIMARY KEY,
     at TEXT NOT NULL,
     kind TEXT NOT NULL,
     detail TEXT NOT NULL
   );`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

const now = () => new Date().toISOString();
/** For short synchronous sleeps (Atomics.wait) between checkpoint retries. */
const SLEEP = new Int32Array(new SharedArrayBuffer(4));
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
const parse = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

type Raw = Record<string, unknown>;

function requestFrom(r: Raw): RequestRow {
  return {
    id: r.id as string,
    tokenId: r.token_id as number,
    subject: r.subject as string,
    kind: r.kind as RequestKind,
    status: r.status as RequestStatus,
    idempotencyKey: (r.idempotency_key as string | null) ?? null,
    bodyHash: r.body_hash as string,
    items: parse<RequestItem[]>(r.items as string | null),
    itemHashes: JSON.parse(r.item_hashes as string) as string[],
    batchId: (r.batch_id as number | null) ?? null,
    modelVersion: (r.model_version as number | null) ?? null,
    certificate: parse(r.certificate as string | null),
    reason: (r.reason as string | null) ?? null,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

function versionFrom(r: Raw): VersionRow {
  return {
    version: r.version as number,
    parent: (r.parent as number | null) ?? null,
    dir: r.dir as string,
    hash: r.hash as string,
    batchId: (r.batch_id as number | null) ?? null,
    method: (r.method as string | null) ?? null,
    settings: parse(r.settings as string | null),
    metrics: parse(r.metrics as string | null),
    requests: JSON.parse(r.requests as string) as string[],
    createdAt: r.created_at as string,
    rolledBack: r.rolled_back === 1,
  };
}

function batchFrom(r: Raw): BatchRow {
  return {
    id: r.id as number,
    status: r.status as BatchRow['status'],
    baseVersion: r.base_version as number,
    requests: JSON.parse(r.requests as string) as string[],
    attempts: JSON.parse(r.attempts as string) as unknown[],
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

export class Ledger {
  readonly db: Database.Database;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    try {
      this.db = new Database(path);
    } catch (err) {
      throw new ConfigError('cannot open the ledger', { where: path, found: (err as Error).message });
    }
    this.db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commit).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('secure_delete = ON');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  private migrate(): void {
    const have = this.db.pragma('user_version', { simple: true }) as number;
    if (have > MIGRATIONS.length) {
      throw new ConfigError('the ledger was written by a newer lethe', {
        where: this.path,
        expected: `schema version ≤ ${MIGRATIONS.length}`,
        found: String(have),
      });
    }
    for (let v = have; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** A prepared statement, compiled once per ledger (preparing costs more than running). */
  private q(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // --- settings ------------------------------------------------------------------------------

  getSetting(key: string): string | null {
    const r = this.q('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return r?.value ?? null;
  }

  setSetting(key: string, value: string): void {
    this.q(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  }

  /** The service's HMAC key for certificates, created on first use. */
  hmacKey(): Buffer {
    let hex = this.getSetting('hmac_key');
    if (hex === null) {
      hex = randomBytes(32).toString('hex');
      this.q('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)').run('hmac_key', hex);
      hex = this.getSetting('hmac_key')!;
    }
    return Buffer.from(hex, 'hex');
  }

  currentVersion(): number | null {
    const v = this.getSetting('current_version');
    return v === null ? null : Number(v);
  }

  event(kind: string, detail: Record<string, unknown>): void {
    this.q('INSERT INTO events (at, kind, detail) VALUES (?, ?, ?)').run(now(), kind, JSON.stringify(detail));
  }

  events(limit = 200): { at: string; kind: string; detail: unknown }[] {
    return (this.q('SELECT at, kind, detail FROM events ORDER BY id DESC LIMIT ?').all(limit) as Raw[]).map(
      (r) => ({ at: r.at as string, kind: r.kind as string, detail: JSON.parse(r.detail as string) }),
    );
  }

  // --- tokens --------------------------------------------------------------------------------

  addToken(hash: string, role: Role, label: string | null): number {
    return Number(
      this.q('INSERT INTO tokens (hash, role, label, created_at) VALUES (?, ?, ?, ?)').run(
        hash,
        role,
        label,
        now(),
      ).lastInsertRowid,
    );
  }

  tokenByHash(hash: string): { id: number; role: Role } | null {
    const r = this.q('SELECT id, role FROM tokens WHERE hash = ?').get(hash) as
      | { id: number; role: Role }
      | undefined;
    return r ?? null;
  }

  // --- requests ------------------------------------------------------------------------------

  /**
   * Insert a queued request, or return the one this token already filed under the same
   * idempotency key (`created: false`). One transaction: two racing calls cannot both insert.
   */
  insertRequest(r: NewRequest): InsertResult {
    return this.insertRequests([r])[0];
  }

  /**
   * Insert several requests in one transaction (group commit: one WAL write for all of them),
   * each checked against the idempotency keys of everything before it, in order.
   */
  insertRequests(rs: readonly NewRequest[]): InsertResult[] {
    return this.tx(() => rs.map((r) => this.insertOne(r)));
  }

  private insertOne(r: NewRequest): InsertResult {
    if (r.idempotencyKey !== null) {
      const existing = this.q('SELECT * FROM requests WHERE token_id = ? AND idempotency_key = ?').get(
        r.tokenId,
        r.idempotencyKey,
      ) as Raw | undefined;
      if (existing) return { row: requestFrom(existing), created: false };
    }
    const t = now();
    this.q(
      `INSERT INTO requests (id, token_id, subject, kind, status, idempotency_key, body_hash, items,
         item_hashes, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
    ).run(
      r.id,
      r.tokenId,
      r.subject,
      r.kind,
      r.idempotencyKey,
      r.bodyHash,
      JSON.stringify(r.items),
      JSON.stringify(r.itemHashes),
      t,
      t,
    );
    return {
      row: {
        id: r.id,
        tokenId: r.tokenId,
        subject: r.subject,
        kind: r.kind,
        status: 'queued',
        idempotencyKey: r.idempotencyKey,
        bodyHash: r.bodyHash,
        items: r.items,
        itemHashes: r.itemHashes,
        batchId: null,
        modelVersion: null,
        certificate: null,
        reason: null,
        createdAt: t,
        updatedAt: t,
      },
      created: true,
    };
  }

  request(id: string): RequestRow | null {
    const r = this.q('SELECT * FROM requests WHERE id = ?').get(id) as Raw | undefined;
    return r ? requestFrom(r) : null;
  }

  requests(filter: { tokenId?: number; limit?: number } = {}): RequestRow[] {
    const limit = filter.limit ?? 1000;
    const rows =
      filter.tokenId === undefined
        ? this.q('SELECT * FROM requests ORDER BY seq DESC LIMIT ?').all(limit)
        : this.q('SELECT * FROM requests WHERE token_id = ? ORDER BY seq DESC LIMIT ?').all(
            filter.tokenId,
            limit,
          );
    return (rows as Raw[]).map(requestFrom);
  }

  countByStatus(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.q('SELECT status, COUNT(*) AS n FROM requests GROUP BY status').all() as Raw[])
      out[r.status as string] = r.n as number;
    return out;
  }

  /** How many requests are queued (counted up to `cap`) and the oldest one's creation time. */
  oldestQueued(cap = 1_000_000): { n: number; oldest: string | null } {
    const first = this.q(
      "SELECT created_at FROM requests WHERE status = 'queued' ORDER BY seq LIMIT 1",
    ).get() as Raw | undefined;
    if (!first) return { n: 0, oldest: null };
    const r = this.q(
      "SELECT COUNT(*) AS n FROM (SELECT 1 FROM requests WHERE status = 'queued' LIMIT ?)",
    ).get(cap) as Raw;
    return { n: r.n as number, oldest: first.created_at as string };
  }

  // --- batches -------------------------------------------------------------------------------

  /** Move up to `size` oldest queued requests into a new running batch (one transaction). */
  startBatch(size: number, baseVersion: number): BatchRow | null {
    return this.tx(() => {
      const ids = (
        this.q("SELECT id FROM requests WHERE status = 'queued' ORDER BY seq LIMIT ?").all(size) as Raw[]
      ).map((r) => r.id as string);
      if (ids.length === 0) return null;
      const t = now();
      const id = Number(
        this.q(
          "INSERT INTO batches (status, base_version, requests, created_at, updated_at) VALUES ('running', ?, ?, ?, ?)",
        ).run(baseVersion, JSON.stringify(ids), t, t).lastInsertRowid,
      );
      const upd = this.q("UPDATE requests SET status = 'running', batch_id = ?, updated_at = ? WHERE id = ?");
      for (const rid of ids) upd.run(id, t, rid);
      return this.batch(id)!;
    });
  }

  batch(id: number): BatchRow | null {
    const r = this.q('SELECT * FROM batches WHERE id = ?').get(id) as Raw | undefined;
    return r ? batchFrom(r) : null;
  }

  batches(limit = 200): BatchRow[] {
    return (this.q('SELECT * FROM batches ORDER BY id DESC LIMIT ?').all(limit) as Raw[]).map(batchFrom);
  }

  recordAttempt(batchId: number, attempt: unknown): void {
    this.tx(() => {
      const b = this.batch(batchId)!;
      this.q('UPDATE batches SET attempts = ?, updated_at = ? WHERE id = ?').run(
        JSON.stringify([...b.attempts, attempt]),
        now(),
        batchId,
      );
    });
  }

  /**
   * Put the requests of running batches back in the queue (after a crash, or when the version a
   * batch started from is no longer current). Their items are still stored: nothing is lost.
   */
  requeueRunning(status: 'interrupted' | 'stale', batchId?: number): number {
    return this.tx(() => {
      const batches = (
        batchId === undefined
          ? this.q("SELECT * FROM batches WHERE status = 'running'").all()
          : this.q("SELECT * FROM batches WHERE id = ? AND status = 'running'").all(batchId)
      ) as Raw[];
      const t = now();
      let n = 0;
      for (const b of batches.map(batchFrom)) {
        this.q('UPDATE batches SET status = ?, updated_at = ? WHERE id = ?').run(status, t, b.id);
        n += this.q(
          "UPDATE requests SET status = 'queued', batch_id = NULL, updated_at = ? WHERE batch_id = ? AND status = 'running'",
        ).run(t, b.id).changes;
      }
      return n;
    });
  }

  /**
   * Publish: the new version row, the batch's requests verified with their certificates, raw items
   * erased, the current version moved — all in one transaction.
   */
  publish(
    v: Omit<VersionRow, 'createdAt' | 'rolledBack'>,
    certificates: Map<string, unknown>,
    batchId: number,
  ): void {
    this.tx(() => {
      const t = now();
      this.q(
        `INSERT INTO versions (version, parent, dir, hash, batch_id, method, settings, metrics, requests, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        v.version,
        v.parent,
        v.dir,
        v.hash,
        v.batchId,
        v.method,
        json(v.settings),
        json(v.metrics),
        JSON.stringify(v.requests),
        t,
      );
      const upd = this.q(
        "UPDATE requests SET status = 'verified', model_version = ?, certificate = ?, items = NULL, updated_at = ? WHERE id = ?",
      );
      for (const id of v.requests) upd.run(v.version, JSON.stringify(certificates.get(id)), t, id);
      this.q("UPDATE batches SET status = 'published', updated_at = ? WHERE id = ?").run(t, batchId);
      this.setSetting('current_version', String(v.version));
    });
    this.forgetOldPages();
  }

  /**
   * Copy the WAL into the database and truncate it, so the erased items' old page images do not
   * linger in the WAL file (secure_delete has already zeroed them in the pages themselves).
   */
  private forgetOldPages(): void {
    // A checkpoint another connection is running (the service's checkpoint thread) makes this one
    // return busy without waiting, leaving the WAL as it was: retry until it has truncated.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number }[];
      if (r.busy === 0 && r.log === 0) return;
      if (Date.now() > deadline)
        throw new ConfigError('cannot truncate the ledger WAL: another connection keeps it busy', {
          where: this.path,
          hint: 'a process holding a long read transaction on the ledger (close it)',
        });
      Atomics.wait(SLEEP, 0, 0, 5);
    }
  }

  /** Close a batch without publishing: its requests get `status` and a reason; raw items are erased. */
  reject(batchId: number, status: 'needs-retraining' | 'failed' | 'rejected', reason: string): void {
    this.tx(() => {
      const t = now();
      this.q(
        "UPDATE requests SET status = ?, reason = ?, items = NULL, updated_at = ? WHERE batch_id = ? AND status = 'running'",
      ).run(status, reason, t, batchId);
      // Only a running batch: an error after a batch was published must not relabel it.
      this.q("UPDATE batches SET status = ?, updated_at = ? WHERE id = ? AND status = 'running'").run(
        status === 'failed' ? 'failed' : 'rejected',
        t,
        batchId,
      );
    });
    this.forgetOldPages();
  }

  // --- versions ------------------------------------------------------------------------------

  insertVersionZero(dir: string, hash: string): void {
    this.tx(() => {
      this.q(
        "INSERT INTO versions (version, parent, dir, hash, requests, created_at) VALUES (0, NULL, ?, ?, '[]', ?)",
      ).run(dir, hash, now());
      this.setSetting('current_version', '0');
    });
  }

  version(v: number): VersionRow | null {
    const r = this.q('SELECT * FROM versions WHERE version = ?').get(v) as Raw | undefined;
    return r ? versionFrom(r) : null;
  }

  versions(): VersionRow[] {
    return (this.q('SELECT * FROM versions ORDER BY version').all() as Raw[]).map(versionFrom);
  }

  nextVersion(): number {
    const r = this.q('SELECT MAX(version) AS m FROM versions').get() as Raw;
    return (r.m as number | null) === null ? 0 : (r.m as number) + 1;
  }

  /**
   * Make `target` current again. Versions after it on the current lineage are marked rolled back,
   * and requests whose forgetting only they carried become needs-retraining (their items are gone,
   * so they cannot be re-run automatically).
   */
  rollback(target: number, reason: string): { rolledBack: number[]; requests: string[] } {
    return this.tx(() => {
      const cur = this.currentVersion()!;
      const undone: number[] = [];
      let v: VersionRow | null = this.version(cur);
      while (v && v.version !== target) {
        undone.push(v.version);
        v = v.parent === null ? null : this.version(v.parent);
      }
      if (!v) throw new ConfigError(`version ${target} is not an ancestor of the current version ${cur}`);
      const t = now();
      const requests: string[] = [];
      for (const u of undone) {
        this.q('UPDATE versions SET rolled_back = 1 WHERE version = ?').run(u);
        const row = this.version(u)!;
        for (const id of row.requests) {
          this.q(
            "UPDATE requests SET status = 'needs-retraining', reason = ?, updated_at = ? WHERE id = ?",
          ).run(`model version ${u} was rolled back: ${reason}`, t, id);
          requests.push(id);
        }
      }
      this.setSetting('current_version', String(target));
      this.event('rollback', { from: cur, to: target, versions: undone, requests });
      return { rolledBack: undone, requests };
    });
  }
}
