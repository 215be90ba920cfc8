/**
 * The `--out` rule of every command that writes an output (train, unlearn: a folder; eval: a
 * file). A missing or empty folder is used. A non-empty one is used only when it holds the
 * command's own work, which each command defines below (what it resumes, or the same run again);
 * anything else is refused with a UsageError (exit 2) naming the folder and what it holds, unless
 * --force is given. --force replaces what is inside the folder — entry by entry, links removed and
 * never followed — and nothing outside it; it refuses a folder that holds one of the command's
 * inputs or the working directory.
 *
 * Own work, per command:
 *  - train: with --resume, a folder holding only what lethe train writes (model files,
 *    checkpoints/, train-log.jsonl, its token work folders); the checkpoint itself then says
 *    whether the inputs match (--force-resume to override). Without --resume, none: training
 *    would start over on top of it.
 *  - unlearn: an interrupted run (only its log, killed before the model was saved; or its log and
 *    model files without the manifest, written last), or a finished
 *    one whose manifest.json records the same method, resolved arguments, seed, task and (with
 *    --model) source model. The run replaces it.
 *  - eval: a results file of the same --model (replaced by the new evaluation).
 *
 * Folders are created one level at a time: Node 20's recursive mkdir never returns on a path
 * such as /proc/x (it retries ENOENT forever), where a plain mkdir fails with ENOENT.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { RESULTS_FORMAT } from '../eval/results.ts';
import { isAtomicTempName } from '../io/atomic.ts';
import { checkUnlearnOut, readManifest } from '../study/unlearn-job.ts';
import { UsageError } from './usage-error.ts';

/** What a non-empty output holds: the command's own work, or something else (described). */
export type Verdict = { own: true } | { own: false; what: string; hint?: string };

const OWN: Verdict = { own: true };

/** True when `path` is `dir` or lies inside it. */
export function isWithin(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

/** Create `dir` and its missing parents, one plain mkdir each (see the header). */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let p = resolve(dir); !existsSync(p); p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing) mkdirSync(p);
}

const listed = (entries: readonly string[]) =>
  entries.slice(0, 6).join(', ') + (entries.length > 6 ? `, … (${entries.length} entries)` : '');

export interface OutFolderCheck {
  /** The --out value as given. */
  dir: string;
  force: boolean;
  /** Judges a non-empty folder's entries. */
  judge(dir: string, entries: string[]): Verdict;
  /** What the command reads (model, data, config): --force never empties a folder holding one. */
  inputs?: readonly (string | undefined)[];
  /** Whether --force empties the folder (false: it only allows writing into it, as train --resume). */
  clearOnForce?: boolean;
}

/** How to use the checked folder: `clear` means empty it (with clearFolder) right before writing. */
export interface OutFolderPlan {
  dir: string;
  clear: boolean;
}

/**
 * Apply the --out rule to a folder, before any work: refuses (UsageError) or returns the plan.
 * A missing folder is created (so an impossible path fails here, with a clear error).
 */
export function checkOutFolder(o: OutFolderCheck): OutFolderPlan {
  const dir = resolve(o.dir);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new UsageError(`--out ${o.dir} is a file, not a folder`, {
      where: dir,
      hint: 'choose a folder path (it is created if missing)',
    });
  }
  const entries = existsSync(dir) ? readdirSync(dir) : [];
  if (entries.length === 0) {
    makeFolder(dir);
    return { dir, clear: false };
  }
  const verdict = o.judge(dir, entries);
  if (verdict.own) return { dir, clear: false };
  if (!o.force) {
    throw new UsageError(`--out ${o.dir} is not empty and not this command's own work`, {
      where: dir,
      found: `${verdict.what}: ${listed(entries)}`,
      hint: verdict.hint ?? 'choose a new or empty folder, or pass --force to replace what it holds',
    });
  }
  const clear = o.clearOnForce ?? true;
  if (clear) {
    const inside = [process.cwd(), ...(o.inputs ?? [])].filter(
      (p): p is string => p !== undefined && isWithin(p, dir),
    );
    if (inside.length > 0) {
      throw new UsageError(`--force would empty ${o.dir}, which holds ${inside[0]}`, {
        where: dir,
        expected: 'an output folder that holds neither the working directory nor an input of the command',
        hint: 'choose another output folder',
      });
    }
  }
  return { dir, clear };
}

/** Empty a folder checked with clear: true, entry by entry; links are removed, never followed. */
export function clearFolder(plan: OutFolderPlan): void {
  if (!plan.clear) return;
  for (const name of readdirSync(plan.dir)) rmSync(join(plan.dir, name), { recursive: true, force: true });
}

// ---- What each command counts as its own work ----

/** Everything lethe train writes into its --out folder. */
const TRAIN_OUTPUT =
  /^(config\.json|generation_config\.json|tokenizer(_config)?\.json|special_tokens_map\.json|chat_template\.jinja|.*\.safetensors(\.index\.json)?|checkpoints|train-log\.jsonl|\.tokens\.tmp-\d+)$/;

/** lethe train: with --resume, a folder of its own files; without, nothing (see the header). */
export function trainJudge(resume: boolean): OutFolderCheck['judge'] {
  return (_dir, entries) => {
    const foreign = entries.filter((n) => !TRAIN_OUTPUT.test(n) && !isAtomicTempName(n));
    if (foreign.length > 0)
      return { own: false, what: `files lethe train does not write (${listed(foreign)})` };
    if (resume) return OWN;
    return {
      own: false,
      what: 'an earlier lethe train output',
      hint: 'pass --resume to continue the run in it, --force to start over (removes what it holds), or choose a new folder',
    };
  };
}

/** Files of an unlearning run killed before it saved the model (it writes its log first). */
const UNLEARN_INTERRUPTED = /^(unlearn-log\.jsonl(\.[a-z][a-z0-9-]*)?|request-\d+|checkpoints?)$/;

/** True when every file in `dir` is one lethe unlearn writes (checkUnlearnOut's rule). */
function onlyUnlearnFiles(dir: string): boolean {
  try {
    checkUnlearnOut(dir);
    return true;
  } catch {
    return false;
  }
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** lethe unlearn: an interrupted run, or a finished run of the same inputs (see the header). */
export function unlearnJudge(run: {
  method: string;
  args: Record<string, unknown>;
  seed: number;
  taskSpec: string;
  model?: string;
}): OutFolderCheck['judge'] {
  return (dir, entries) => {
    if (entries.every((n) => UNLEARN_INTERRUPTED.test(n) || isAtomicTempName(n))) return OWN;
    let manifest: ReturnType<typeof readManifest> = null;
    try {
      manifest = readManifest(dir);
    } catch {
      return { own: false, what: 'a folder whose manifest.json is unreadable' };
    }
    if (manifest === null && entries.includes('unlearn-log.jsonl') && onlyUnlearnFiles(dir)) {
      // Killed after saving the model but before the manifest, which is written last: still an
      // interrupted run (its log says lethe unlearn wrote it), redone from the start.
      return OWN;
    }
    if (manifest?.format !== 'lethe-unlearn/1') {
      return {
        own: false,
        what: 'files that are not a finished lethe unlearn output (no lethe manifest.json)',
      };
    }
    try {
      checkUnlearnOut(dir);
    } catch {
      return { own: false, what: 'an unlearned model together with other files' };
    }
    const differs = [
      manifest.method !== run.method && `method ${manifest.method}`,
      canonical(manifest.args) !== canonical(run.args) && 'other arguments',
      manifest.seed !== run.seed && `seed ${manifest.seed}`,
      manifest.task?.spec !== run.taskSpec && `task ${manifest.task?.spec}`,
      run.model !== undefined && manifest.source !== resolve(run.model) && `source ${manifest.source}`,
    ].filter((d): d is string => typeof d === 'string');
    if (differs.length === 0) return OWN;
    return { own: false, what: `the output of another unlearning run (${differs.join(', ')})` };
  };
}

/**
 * lethe eval --out FILE: refuses a folder; an existing file is replaced only when it is a results
 * file of the same model, or with --force (which replaces that one file). Creates the parent
 * folder. Returns the absolute path.
 */
export function checkResultsFile(file: string, model: string, force: boolean): string {
  const path = resolve(file);
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new UsageError(`--out ${file} is a folder; lethe eval writes one results file`, {
      where: path,
      hint: `e.g. --out ${join(file, 'results.json')}`,
    });
  }
  if (existsSync(path) && !force) {
    let dir: unknown;
    try {
      const r = JSON.parse(readFileSync(path, 'utf8')) as {
        format?: unknown;
        models?: { unlearned?: { dir?: unknown } };
      };
      dir = r.format === RESULTS_FORMAT ? r.models?.unlearned?.dir : undefined;
    } catch {
      dir = undefined;
    }
    if (dir !== resolve(model)) {
      throw new UsageError(`--out ${file} exists and is not an earlier evaluation of this model`, {
        where: path,
        found: typeof dir === 'string' ? `the results of ${dir}` : 'a file that is not a lethe results file',
        hint: 'choose another file, or pass --force to replace it',
      });
    }
  }
  makeFolder(dirname(path));
  return path;
}
