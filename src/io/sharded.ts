/**
 * Sharded safetensors checkpoints, Hugging Face style: `model-00001-of-00003.safetensors` ...
 * plus `model.safetensors.index.json` = {"metadata": {...}, "weight_map": {tensor: shard file}}.
 *
 * Reading opens every shard named by the index (headers only), checks that each shard holds the
 * tensors the index assigns to it, and exposes them as one lazy name -> tensor source.
 * Writing packs tensors greedily into shards no larger than `maxShardBytes` (a tensor larger than
 * that gets a shard of its own), writes each shard atomically, and writes the index last, so a
 * crash can leave stray shards but never an index that points at missing or partial ones.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../errors.ts';
import { writeJsonAtomic } from './atomic.ts';
import {
  type LoadedTensor,
  type PlannedTensor,
  plannedBytes,
  planTensors,
  type ReadOptions,
  SafetensorsFile,
  type TensorInfo,
  type TensorMap,
  type TensorSource,
  tensorEntries,
  type WriteOptions,
  writePlanned,
} from './safetensors.ts';

export interface ShardIndex {
  metadata: Record<string, unknown>;
  weight_map: Record<string, string>;
}

/** HF's shard file name: `${prefix}-00001-of-00003.safetensors` (1-based, 5 digits). */
export function shardFileName(prefix: string, index: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${prefix}-${pad(index)}-of-${pad(count)}.safetensors`;
}

/** The index file name for a prefix: `${prefix}.safetensors.index.json`. */
export function indexFileName(prefix: string): string {
  return `${prefix}.safetensors.index.json`;
}

function indexError(file: string, summary: string, d: { expected?: string; found?: string; hint?: string }) {
  return new CheckpointError(`sharded checkpoint: ${summary} in ${file}`, { where: file, ...d });
}

/** Parse and check an index file's JSON. */
export async function readShardIndex(indexPath: string): Promise<ShardIndex> {
  let text: string;
  try {
    text = await readFile(indexPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw indexError(indexPath, 'cannot read index', {
      found: code === 'ENOENT' ? 'no such file' : (err as Error).message,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw indexError(indexPath, 'index is not valid JSON', { found: (err as Error).message });
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(raw) || !isObject(raw.weight_map)) {
    throw indexError(indexPath, 'bad index', {
      expected: '{"metadata": {...}, "weight_map": {tensor name: shard file}}',
      found: isObject(raw) ? `keys ${Object.keys(raw).join(', ') || '(none)'}` : typeof raw,
    });
  }
  if (raw.metadata !== undefined && !isObject(raw.metadata)) {
    throw indexError(indexPath, 'bad index metadata', {
      expected: 'an object',
      found: JSON.stringify(raw.metadata),
    });
  }
  const weightMap: Record<string, string> = Object.create(null);
  for (const [name, file] of Object.entries(raw.weight_map)) {
    // Shard names are plain file names in the index's folder; anything else could read outside it.
    if (typeof file !== 'string' || file === '' || file === '.' || file === '..' || /[/\\]/.test(file)) {
      throw indexError(indexPath, 'bad shard file name', {
        expected: 'a file name in the same folder',
        found: `"${name}": ${JSON.stringify(file)}`,
      });
    }
    weightMap[name] = file;
  }
  if (Object.keys(weightMap).length === 0) {
    throw indexError(indexPath, 'empty weight_map', { expected: 'at least one tensor' });
  }
  return { metadata: (raw.metadata as Record<string, unknown>) ?? {}, weight_map: weightMap };
}

/** A sharded checkpoint opened for lazy reading, as one name -> tensor source. */
export class ShardedSafetensors implements TensorSource {
  readonly indexPath: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  private readonly shards: ReadonlyMap<string, SafetensorsFile>;
  private readonly weightMap: Readonly<Record<string, string>>;

  private constructor(indexPath: string, index: ShardIndex, shards: Map<string, SafetensorsFile>) {
    this.indexPath = indexPath;
    this.metadata = index.metadata;
    this.weightMap = index.weight_map;
    this.shards = shards;
  }

  /** Open the index and every shard it names (headers only). */
  static async open(indexPath: string, options: ReadOptions = {}): Promise<ShardedSafetensors> {
    const index = await readShardIndex(indexPath);
    const dir = dirname(indexPath);
    const shards = new Map<string, SafetensorsFile>();
    try {
      for (const file of new Set(Object.values(index.weight_map))) {
        const path = join(dir, file);
        try {
          shards.set(file, await SafetensorsFile.open(path, options));
        } catch (err) {
          if (err instanceof CheckpointError && err.details.found === 'no such file') {
            throw new CheckpointError(`sharded checkpoint: missing shard ${file} for ${indexPath}`, {
              where: indexPath,
              expected: `shard file ${path}`,
              found: 'no such file',
              hint: 'the checkpoint was copied or written incompletely',
            });
          }
          throw err;
        }
      }
      for (const [name, file] of Object.entries(index.weight_map)) {
        if (!shards.get(file)!.has(name)) {
          throw new CheckpointError(`sharded checkpoint: tensor "${name}" missing from shard ${file}`, {
            where: `${indexPath}, tensor "${name}"`,
            expected: `"${name}" in ${join(dir, file)}, as the weight_map says`,
            found: `${shards.get(file)!.names().length} other tensors`,
          });
        }
      }
    } catch (err) {
      await Promise.all([...shards.values()].map((s) => s.close()));
      throw err;
    }
    return new ShardedSafetensors(indexPath, index, shards);
  }

  /** Shard file names, sorted. */
  shardFiles(): string[] {
    return [...this.shards.keys()].sort();
  }

  names(): string[] {
    return Object.keys(this.weightMap).sort();
  }

  has(name: string): boolean {
    return Object.hasOwn(this.weightMap, name);
  }

  private shardOf(name: string): SafetensorsFile {
    if (!this.has(name)) {
      throw new CheckpointError(`sharded checkpoint: no tensor "${name}" in ${this.indexPath}`, {
        where: this.indexPath,
        expected: `"${name}" in the weight_map`,
        found: `${this.names().length} other tensors`,
      });
    }
    return this.shards.get(this.weightMap[name])!;
  }

  info(name: string): TensorInfo & { readonly file: string } {
    return this.shardOf(name).info(name);
  }

  read(name: string): Promise<LoadedTensor> {
    return this.shardOf(name).read(name);
  }

  async readAll(): Promise<Map<string, LoadedTensor>> {
    const out = new Map<string, LoadedTensor>();
    for (const name of this.names()) out.set(name, await this.read(name));
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.shards.values()].map((s) => s.close()));
  }
}

/**
 * Open a checkpoint: a `.safetensors.index.json` path opens a sharded checkpoint, anything else a
 * single safetensors file.
 */
export async function openSafetensors(path: string, options: ReadOptions = {}): Promise<TensorSource> {
  return path.endsWith('.index.json')
    ? ShardedSafetensors.open(path, options)
    : SafetensorsFile.open(path, options);
}

export interface ShardedWriteOptions extends WriteOptions {
  /** Largest shard size in bytes (tensor data, excluding the header). */
  maxShardBytes: number;
  /** File name prefix; 'model' gives model-0000i-of-0000n.safetensors and model.safetensors.index.json. */
  prefix?: string;
  /** Extra entries for the index's "metadata" (total_size is always set). */
  indexMetadata?: Record<string, unknown>;
}

export interface ShardedWriteResult {
  indexPath: string;
  /** Shard file names in order. */
  shardFiles: string[];
  totalBytes: number;
}

/** Greedy packing in planned (layout) order; each group becomes one shard. */
export function planShards(planned: readonly PlannedTensor[], maxShardBytes: number): PlannedTensor[][] {
  if (!(maxShardBytes > 0)) {
    throw new CheckpointError('sharded checkpoint: maxShardBytes must be positive', {
      expected: 'a positive number of bytes',
      found: String(maxShardBytes),
    });
  }
  const groups: PlannedTensor[][] = [];
  let current: PlannedTensor[] = [];
  let bytes = 0;
  for (const t of planned) {
    const size = t.end - t.begin;
    if (current.length > 0 && bytes + size > maxShardBytes) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(t);
    bytes += size;
  }
  if (current.length > 0 || groups.length === 0) groups.push(current);
  // Offsets were planned for one file; re-base them per shard.
  return groups.map((g) => {
    const base = g.length > 0 ? g[0].begin : 0;
    return g.map((t) => ({ ...t, begin: t.begin - base, end: t.end - base }));
  });
}

/** Write `tensors` as a sharded checkpoint in `dir`: shards first, then the index, all atomic. */
export async function writeSafetensorsSharded(
  dir: string,
  tensors: TensorMap,
  options: ShardedWriteOptions,
): Promise<ShardedWriteResult> {
  const prefix = options.prefix ?? 'model';
  if (prefix === '' || basename(prefix) !== prefix) {
    throw new CheckpointError(`sharded checkpoint: bad prefix ${JSON.stringify(prefix)}`, {
      where: dir,
      expected: 'a plain file name prefix',
    });
  }
  const planned = planTensors(tensorEntries(tensors, dir), options.dtype);
  const groups = planShards(planned, options.maxShardBytes);
  const shardFiles = groups.map((_, i) => shardFileName(prefix, i + 1, groups.length));
  const weightMap: Record<string, string> = Object.create(null);
  for (let i = 0; i < groups.length; i++) {
    await writePlanned(join(dir, shardFiles[i]), groups[i], { metadata: options.metadata });
    for (const t of groups[i]) weightMap[t.name] = shardFiles[i];
  }
  const totalBytes = groups.reduce((sum, g) => sum + plannedBytes(g), 0);
  // Null prototype: a tensor called "__proto__" must stay an ordinary key.
  const sortedMap: Record<string, string> = Object.create(null);
  for (const name of Object.keys(weightMap).sort()) sortedMap[name] = weightMap[name];
  const index: ShardIndex = {
    metadata: { ...options.indexMetadata, total_size: totalBytes },
    weight_map: sortedMap,
  };
  const indexPath = join(dir, indexFileName(prefix));
  await writeJsonAtomic(indexPath, index, { beforeRename: options.beforeRename });
  return { indexPath, shardFiles, totalBytes };
}
