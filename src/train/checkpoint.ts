/**
 * Training checkpoints: model weights, optimiser moments and the loop position, written to a
 * fresh folder that is renamed into place only when complete (state.json, written last, marks
 * completeness). A crash at any point leaves either the previous checkpoint or the new one.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from '../errors.ts';
import { fsyncDir, writeJsonAtomic } from '../io/atomic.ts';
import { readSafetensors, writeSafetensors } from '../io/safetensors.ts';
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

export interface LoopState {
  step: number;
  seed: number;
}

interface StateFile extends LoopState {
  format: 'lethe-train-checkpoint/1';
  kind: 'adamw' | 'sophia';
  lrs: number[];
  params: ({ name?: string; step: number } | null)[];
}

const current = (s: CheckpointStore) => join(s.dir, 'checkpoint');
const previous = (s: CheckpointStore) => join(s.dir, 'checkpoint.old');

export async function saveCheckpoint(
  store: CheckpointStore,
  model: CausalLM,
  optimizer: CheckpointableOptimizer,
  loop: LoopState,
): Promise<void> {
  await mkdir(store.dir, { recursive: true });
  const tmp = join(store.dir, `checkpoint.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
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
    format: 'lethe-train-checkpoint/1',
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

/** Restore the newest complete checkpoint into model and optimizer; null when there is none. */
export async function loadCheckpoint(
  store: CheckpointStore,
  model: CausalLM,
  optimizer: CheckpointableOptimizer,
): Promise<LoopState | null> {
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
    if (state.format !== 'lethe-train-checkpoint/1') {
      throw new CheckpointError('unknown checkpoint format', {
        where: statePath,
        expected: 'lethe-train-checkpoint/1',
        found: String(state.format),
      });
    }
    const weights = await readSafetensors(join(dir, 'model.safetensors'));
    model.loadHF(weights as never, join(dir, 'model.safetensors'));
    const moments = await readSafetensors(join(dir, 'optimizer.safetensors'));
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
    return { step: state.step, seed: state.seed };
  }
  return null;
}
