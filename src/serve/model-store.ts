/**
 * The service's model store: published versions as complete HF folders `v<N>` beside the ledger,
 * and the private work folders (`.work-*`) where a batch's candidate is built. A candidate is
 * published by one rename after its verification passed, then the ledger commits it; a `v<N>`
 * folder the ledger does not know (a crash between the two) and every work folder are removed
 * at start-up, so what the ledger calls current is always a complete, verified folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CheckpointError } from '../errors.ts';
import { fsyncDir } from '../io/atomic.ts';

/** The store folder of a ledger: `ledger.sqlite` → `ledger.sqlite.models/`. */
export const storeDirOf = (dbPath: string): string => `${dbPath}.models`;

function filesUnder(dir: string, root = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) out.push(...filesUnder(p, root));
    else if (s.isFile()) out.push(relative(root, p));
  }
  return out;
}

function checkModelFolder(dir: string): void {
  if (!existsSync(join(dir, 'config.json'))) {
    throw new CheckpointError('not a complete model folder', {
      where: dir,
      expected: 'an HF folder with config.json, weights and tokenizer.json',
      found: 'no config.json',
    });
  }
}

/** The folder hash from each file's relative path and the sha256 (hex) of its bytes. */
function combine(files: string[], fileHashes: string[]): string {
  const h = createHash('sha256');
  h.update('lethe-model-folder-v1\n');
  files.forEach((f, i) => {
    h.update(`${f}\n`);
    h.update(fileHashes[i]);
    h.update('\n');
  });
  return h.digest('hex');
}

/**
 * sha256 over every file of a model folder (its relative path and the sha256 of its bytes, in
 * sorted order): two folders with the same hash hold the same files.
 */
export function folderHash(dir: string): string {
  checkModelFolder(dir);
  const files = filesUnder(dir);
  return combine(
    files,
    files.map((f) =>
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    ),
  );
}

/**
 * folderHash, reading and hashing in 256 KiB pieces with the event loop free between them: the
 * worker hashes each new version while the API goes on taking submissions, and a model of some
 * hundred MB hashed in one piece would hold every request for a second.
 */
export async function folderHashAsync(dir: string): Promise<string> {
  checkModelFolder(dir);
  const files = filesUnder(dir);
  const hashes: string[] = [];
  for (const f of files) {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(join(dir, f), { highWaterMark: 1 << 18 })) h.update(chunk);
    hashes.push(h.digest('hex'));
  }
  return combine(files, hashes);
}

export class ModelStore {
  constructor(readonly dir: string) {}

  versionDir(v: number): string {
    return join(this.dir, `v${v}`);
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** A fresh private folder for one attempt of one batch. */
  async workDir(batchId: number, attempt: number): Promise<string> {
    const dir = join(this.dir, `.work-b${batchId}-a${attempt}-${process.pid}-${Date.now()}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Move a verified candidate to `v<N>` (one rename) and make it durable. */
  async publish(candidate: string, version: number): Promise<string> {
    const target = this.versionDir(version);
    await rm(target, { recursive: true, force: true });
    await rename(candidate, target);
    await fsyncDir(this.dir);
    return target;
  }

  /** Remove work folders and version folders the ledger does not list. Returns what was removed. */
  async cleanup(known: ReadonlySet<string>): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    const removed: string[] = [];
    for (const name of readdirSync(this.dir)) {
      const p = join(this.dir, name);
      if (name.startsWith('.work-') || (/^v\d+$/.test(name) && !known.has(p))) {
        await rm(p, { recursive: true, force: true });
        removed.push(name);
      }
    }
    if (removed.length > 0) await fsyncDir(this.dir);
    return removed;
  }
}
