/**
 * Training checkpoints: model weights, optimiser moments, the loop position and a fingerprint of
 * what the run was started with (data, tokenizer, recipe, seed), written to a fresh folder that is
 * renamed into place only when complete (state.json, written last, marks completeness). A crash at
 * any point leaves either the previous checkpoint or the new one; the half-written folder of a
 * crashed process is removed by the next save or load.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from '../errors.ts';
import { fsyncDir, writeJsonAtomic } from '../io/atomic.ts';
import { processAlive } from '../io/lock.ts';
import { assertFiniteTensors, readSafetensors, writeSafetensors } from '../io/safetensors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import type { AdamWState, SophiaState } from '../nn/index.ts';

/** What checkpoints need of an optimiser (AdamW and Sophia share this state shape). */
export interface CheckpointableOptimizer {
  state(): AdamWState | SophiaState;
  loadState(state: never): void;
}

export interface CheckpointStore {
  dir: string;
}

/** What a run was started with, as flat comparable values; a resume must match it. */
export type Fingerprint = Record<string, string | number | boolean | null>;

export interface LoopState {
  step: number;
  seed: number;
  /** The loss of the last step before this checkpoint (so a run resumed at its end can report it). */
  loss: number | null;
  evalLoss: number | null;
  /** Tokens trained on up to this checkpoint, so a resumed run reports the whole run's count. */
  tokens?: number;
  fingerprint: Fingerprint;
}

const FORMAT = 'lethe-train-checkpoint/2';

interface StateFile extends LoopState {
  format: typeof FORMAT;
  kind: 'adamw' | 'sophia';
  lrs: number[];
  params: ({ name?: string; step: number } | null)[];
}

const current = (s: CheckpointStore) => join(s.dir, 'checkpoint');
const previous = (s: CheckpointStore) => join(s.dir, 'checkpoint.old');

/** Remove `checkpoint.tmp-<pid>` folders whose writer is gone (a crash mid-save). */
export async function removeStaleTemps(store: CheckpointStore): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(store.dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => {
    const m = /^checkpoint\.tmp-(\d+)$/.exec(n);
    return m !== null && (Number(m[1]) === process.pid || !processAlive(Number(m[1])));
  });
  for (const n of stale) await rm(join(store.dir, n), { recursive: true, force: true });
  return stale;
}

/** The keys whose values differ between two fingerprints, as "key: saved → now" lines. */
export function fingerprintDiff(saved: Fingerprint, now: Fingerprint): string[] {
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  return [...new Set([...Object.keys(saved), ...Object.keys(now)])]
    .sort()
    .filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(now[k]))
    .map((k) => `${k}: ${show(saved[k])} → ${show(now[k])}`);
}

export async function saveCheckpoint(
  store: CheckpointStore,
  model: CausalLM,
  optimizer: CheckpointableOptimizer,
  loop: LoopState,
): Promise<void> {
  await mkdir(store.dir, { recursive: true });
  await removeStaleTemps(store);
  const tmp = join(store.dir, `checkpoint.tmp-${process.pid}`);
  await mkdir(tmp);
  const opt = optimizer.state();
  const moments = new Map<string, { data: Float32Array; shape: number[] }>();
  opt.params.forEach((p, i) => {
    if (!p) return;
    moments.set(`m.${i}`, { data: p.m, shape: [p.m.length] });
    moments.set(`v.${i}`, { data: p.v, shape: [p.v.length] });
  });
  await writeSafetensors(join(tmp, 'model.safetensors'), model.toHF());
  await writeSafetensors(join(tmp, 'optimizer.safetensors'), moments);
  const state: StateFile = {
    format: FORMAT,
    ...loop,
    kind: opt.kind,
    lrs: opt.lrs,
    params: opt.params.map((p) => (p ? { name: p.name, step: p.step } : null)),
  };
  await writeJsonAtomic(join(tmp, 'state.json'), state);
  // Swap: current → old, tmp → current, drop old. A crash in between leaves old intact.
  await rm(previous(store), { recursive: true, force: true });
  if (existsSync(current(store))) await rename(current(store), previous(store));
  await rename(tmp, current(store));
  await fsyncDir(store.dir);
  await rm(previous(store), { recursive: true, force: true });
}

export interface ResumeCheck {
  /** What this run was started with; a checkpoint with a different one is refused. */
  fingerprint: Fingerprint;
  /** Resume even when the fingerprints differ (the caller asked for it explicitly). */
  force?: boolean;
  /** How the caller spells `force`, for the error's hint. */
  forceHint?: string;
}

/**
 * Restore the newest complete checkpoint into model and optimizer; null when there is none. A
 * checkpoint whose fingerprint differs from `check.fingerprint` is refused with a CheckpointError
 * naming every differing key, unless `check.force`.
 */
export async function loadCheckpoint(
  store: CheckpointStore,
  model: CausalLM,
  optimizer: CheckpointableOptimizer,
  check: ResumeCheck,
): Promise<LoopState | null> {
  await removeStaleTemps(store);
  for (const dir of [current(store), previous(store)]) {
    const statePath = join(dir, 'state.json');
    if (!existsSync(statePath)) continue;
    let state: StateFile;
    try {
      state = JSON.parse(await readFile(statePath, 'utf8')) as StateFile;
    } catch (e) {
      throw new CheckpointError('unreadable training checkpoint state', {
        where: statePath,
        found: String(e),
      });
    }
    if (state?.format !== FORMAT) {
      throw new CheckpointError('unknown training checkpoint format', {
        where: statePath,
        expected: FORMAT,
        found: String(state?.format),
        hint: 'checkpoints of other lethe versions cannot be resumed; start in a new output folder',
      });
    }
    const differs = fingerprintDiff(state.fingerprint ?? {}, check.fingerprint);
    if (differs.length > 0 && !check.force) {
      throw new CheckpointError('the checkpoint was written by a run with different inputs', {
        where: statePath,
        found: differs.join('; '),
        expected: 'the data, tokenizer, recipe and seed the checkpoint was started with',
        hint: `use a new output folder, or resume anyway with ${check.forceHint ?? 'force'}`,
      });
    }
    const weights = await readSafetensors(join(dir, 'model.safetensors'));
    assertFiniteTensors(weights, join(dir, 'model.safetensors'));
    model.loadHF(weights as never, join(dir, 'model.safetensors'));
    const moments = await readSafetensors(join(dir, 'optimizer.safetensors'));
    assertFiniteTensors(moments, join(dir, 'optimizer.safetensors'));
    const optState = {
      kind: state.kind ?? 'adamw',
      lrs: state.lrs,
      params: state.params.map((p, i) => {
        if (!p) return null;
        const m = moments.get(`m.${i}`);
        const v = moments.get(`v.${i}`);
        if (!m || !v)
          throw new CheckpointError(`optimizer moments of parameter ${i} are missing`, { where: dir });
        return { name: p.name, step: p.step, m: m.data as Float32Array, v: v.data as Float32Array };
      }),
    };
    optimizer.loadState(optState as never);
    return {
      step: state.step,
      seed: state.seed,
      loss: state.loss ?? null,
      evalLoss: state.evalLoss ?? null,
      ...(state.tokens === undefined ? {} : { tokens: state.tokens }),
      fingerprint: state.fingerprint,
    };
  }
  return null;
}

/**
 * Before expensive preparation (tokenizing a large corpus): refuse early when the checkpoint's
 * fingerprint differs on any of the keys given here. The full comparison happens on load.
 */
export async function checkResumable(
  store: CheckpointStore,
  partial: Fingerprint,
  force: boolean,
  forceHint: string,
): Promise<void> {
  if (force) return;
  for (const dir of [current(store), previous(store)]) {
    const statePath = join(dir, 'state.json');
    if (!existsSync(statePath)) continue;
    let state: Partial<StateFile>;
    try {
      state = JSON.parse(await readFile(statePath, 'utf8')) as Partial<StateFile>;
    } catch {
      return; // loadCheckpoint reports it
    }
    if (state?.format !== FORMAT) return;
    const saved = state.fingerprint ?? {};
    const differs = fingerprintDiff(
      Object.fromEntries(Object.keys(partial).map((k) => [k, saved[k]])) as Fingerprint,
      partial,
    );
    if (differs.length > 0) {
      throw new CheckpointError('the checkpoint was written by a run with different inputs', {
        where: statePath,
        found: differs.join('; '),
        expected: 'the data, tokenizer, recipe and seed the checkpoint was started with',
        hint: `use a new output folder, or resume anyway with ${forceHint}`,
      });
    }
    return;
  }
}
