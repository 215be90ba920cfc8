/**
 * Naming a task on the command line — the one resolver every `--task` goes through:
 *   synthetic[:tiny|demo|small|large][:seed]  lethe's generated benchmark (no external data; the default)
 *   tofu[:DIR][:forget01|forget05|forget10]   TOFU's released files (DIR default: <data dir>/tofu)
 *   muse:DIR                                  MUSE's released layout (raw/, verbmem/, knowmem/, privleak/)
 *   wmdp:DIR[:bio,cyber,...]                  WMDP's questions and, when present, its corpora
 *   enron-pii:DIR[:N]                         a privacy task from DecodingTrust's Enron e-mail files
 *   extraction[:N]                            N sequences of the training-data extraction benchmark
 *   PATH                                      a task.json (or a folder holding one)
 * The data folder of the built-in specs (`tofu` without DIR, `extraction`) is --data-dir, else
 * $LETHE_DATA_DIR, else ../shared/datasets beside the repository — only when lethe runs from its
 * own git checkout, never relative to an installed package.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import { loadEnronPii } from './enron.ts';
import { loadExtraction } from './extraction.ts';
import { loadMuseRelease } from './muse-release.ts';
import { generateSynthetic, SYNTHETIC_SIZES, type SyntheticSize } from './synthetic/generate.ts';
import { loadTask, type Task } from './task.ts';
import { loadTofu, TOFU_SPLITS, type TofuSplit } from './tofu.ts';
import { loadWmdp } from './wmdp.ts';

export const TASK_SPEC_HELP =
  'task.json, synthetic[:tiny|demo|small|large], tofu[:DIR][:forget01|forget05|forget10], muse:DIR, wmdp:DIR[:bio,cyber], enron-pii:DIR[:N], or extraction[:N]';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where built-in specs find their data: the flag, else $LETHE_DATA_DIR, else ../shared/datasets
 * when lethe runs from a git checkout (the folder beside it); undefined when none applies.
 */
export function defaultDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return resolve(flag);
  if (env.LETHE_DATA_DIR) return resolve(env.LETHE_DATA_DIR);
  if (existsSync(join(PACKAGE_ROOT, '.git'))) return resolve(PACKAGE_ROOT, '..', 'shared', 'datasets');
  return undefined;
}

interface ParsedSpec {
  kind: 'synthetic' | 'tofu' | 'muse' | 'wmdp' | 'enron-pii' | 'extraction' | 'file';
  dir?: string;
  arg?: string;
  seed?: string;
}

const isTofuSplit = (s: string | undefined): s is TofuSplit => TOFU_SPLITS.includes(s as TofuSplit);

function parseSpec(spec: string): ParsedSpec {
  const colon = spec.indexOf(':');
  const head = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? [] : spec.slice(colon + 1).split(':');
  switch (head) {
    case 'synthetic':
      return { kind: 'synthetic', arg: rest[0], seed: rest[1] };
    case 'extraction':
      return { kind: 'extraction', arg: rest[0] };
    case 'tofu': {
      if (rest.length === 0) return { kind: 'tofu' };
      if (rest.length === 1 && isTofuSplit(rest[0])) return { kind: 'tofu', arg: rest[0] };
      const last = rest.at(-1);
      return isTofuSplit(last) && rest.length > 1
        ? { kind: 'tofu', dir: rest.slice(0, -1).join(':'), arg: last }
        : { kind: 'tofu', dir: rest.join(':') };
    }
    case 'muse':
    case 'wmdp':
    case 'enron-pii': {
      if (rest.length === 0 || rest[0] === '') {
        throw new ConfigError(`task spec "${spec}" names no folder`, {
          expected: `${head}:DIR${head === 'muse' ? '' : head === 'wmdp' ? '[:bio,cyber]' : '[:N]'}`,
        });
      }
      if (head === 'muse') return { kind: 'muse', dir: rest.join(':') };
      return rest.length > 1
        ? { kind: head, dir: rest.slice(0, -1).join(':'), arg: rest.at(-1) }
        : { kind: head, dir: rest[0] };
    }
    default:
      return { kind: 'file', dir: spec };
  }
}

/**
 * The spec with every folder or file made absolute, so a manifest that records it resolves the
 * same task from any working directory. Built-in specs without a path are returned unchanged.
 */
export function absoluteTaskSpec(spec: string, cwd = process.cwd()): string {
  const p = parseSpec(spec);
  if (p.dir === undefined || isAbsolute(p.dir)) return spec;
  const dir = resolve(cwd, p.dir);
  if (p.kind === 'file') return dir;
  return [p.kind, dir, ...(p.arg === undefined ? [] : [p.arg])].join(':');
}

function needDir(spec: string, dir: string, what: string): string {
  if (!existsSync(dir)) {
    throw new ConfigError(`task ${spec} needs ${what} at ${dir}`, {
      found: 'no such folder',
      hint: 'name the folder in the spec, or pass --data-dir / set LETHE_DATA_DIR',
    });
  }
  return dir;
}

function builtInDir(spec: string, dataDir: string | undefined, sub: string): string {
  const base = defaultDataDir(dataDir);
  if (base === undefined) {
    throw new ConfigError(`task ${spec} needs a data folder`, {
      expected: `--data-dir DIR or LETHE_DATA_DIR=DIR with ${sub}/ inside`,
      hint: sub === 'tofu' ? 'or name the folder: tofu:DIR[:forget01|forget05|forget10]' : undefined,
    });
  }
  return needDir(spec, join(base, sub), 'data');
}

function positiveInt(spec: string, value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(`invalid ${what} in task spec "${spec}"`, {
      expected: 'a positive integer',
      found: value,
    });
  }
  return n;
}

/** Load the task a spec names (see the header). `dataDir` is the --data-dir flag, if given. */
export async function resolveTask(spec: string, dataDir?: string): Promise<Task> {
  const p = parseSpec(spec);
  switch (p.kind) {
    case 'synthetic': {
      const size = (p.arg || 'small') as SyntheticSize;
      if (!(size in SYNTHETIC_SIZES)) {
        throw new ConfigError(`unknown synthetic size "${size}"`, {
          expected: Object.keys(SYNTHETIC_SIZES).join(', '),
        });
      }
      const seed = p.seed === undefined ? 0 : Number(p.seed);
      if (!Number.isInteger(seed) || seed < 0)
        throw new ConfigError(`invalid seed in task spec "${spec}"`, {
          expected: 'an integer >= 0',
          found: p.seed,
        });
      return generateSynthetic({ size, seed });
    }
    case 'tofu': {
      const dir =
        p.dir === undefined ? builtInDir(spec, dataDir, 'tofu') : needDir(spec, resolve(p.dir), 'TOFU files');
      return loadTofu(dir, { split: p.arg === undefined ? 'forget01' : (p.arg as TofuSplit) });
    }
    case 'muse':
      return loadMuseRelease(needDir(spec, resolve(p.dir!), 'a MUSE folder'));
    case 'wmdp': {
      const domains = p.arg === undefined ? undefined : p.arg.split(',').filter((d) => d !== '');
      return loadWmdp(needDir(spec, resolve(p.dir!), 'a WMDP folder'), { domains });
    }
    case 'enron-pii': {
      const n = p.arg === undefined ? undefined : positiveInt(spec, p.arg, 'N');
      return loadEnronPii(needDir(spec, resolve(p.dir!), 'DecodingTrust Enron files'), { n });
    }
    case 'extraction':
      return loadExtraction(builtInDir(spec, dataDir, 'lm_extraction_benchmark'), {
        n: p.arg ? positiveInt(spec, p.arg, 'N') : 32,
        retain: 512,
      });
    case 'file': {
      const path = resolve(spec);
      if (existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, 'task.json')))
        return loadTask(join(path, 'task.json'));
      if (existsSync(path) && statSync(path).isFile()) return loadTask(path);
      throw new ConfigError(`unknown task "${spec}"`, {
        expected: TASK_SPEC_HELP,
        found: spec.endsWith('.json') ? `no such file: ${path}` : spec,
      });
    }
  }
}
