/**
 * Hugging Face model folders at the file level: config.json, the weights (model.safetensors or a
 * sharded index), optional generation_config.json and tokenizer.json, and the companion files that
 * describe the tokenizer and generation (tokenizer_config.json, special_tokens_map.json,
 * generation_config.json, chat_template.jinja), which are kept as text so that a folder loaded and
 * saved again carries them through byte for byte. Model code checks the config's schema and the
 * weights' names and shapes; this file only promises well-formed files.
 *
 * Writing keeps one invariant: a folder that has a config.json is complete. An existing
 * config.json is removed first, every other file is written atomically, stale weight files of the
 * other layout are removed, and config.json is written last. A crash mid-write leaves a folder
 * without config.json, which readers reject, never a config beside half-written weights.
 */
import { mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from '../errors.ts';
import { fsyncDir, isAtomicTempName, writeFileAtomic } from './atomic.ts';
import {
  plannedBytes,
  planTensors,
  type ReadOptions,
  SafetensorsFile,
  type TensorMap,
  type TensorSource,
  tensorEntries,
  type WriteDType,
  writeSafetensors,
} from './safetensors.ts';
import { indexFileName, ShardedSafetensors, writeSafetensorsSharded } from './sharded.ts';

export const CONFIG_FILE = 'config.json';
export const GENERATION_CONFIG_FILE = 'generation_config.json';
export const TOKENIZER_FILE = 'tokenizer.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
export const SPECIAL_TOKENS_MAP_FILE = 'special_tokens_map.json';
export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';
/** Files beside the weights copied through verbatim on load → save (JSON ones must hold objects). */
export const COMPANION_FILES = [
  TOKENIZER_CONFIG_FILE,
  SPECIAL_TOKENS_MAP_FILE,
  GENERATION_CONFIG_FILE,
  CHAT_TEMPLATE_FILE,
] as const;
export type CompanionFile = (typeof COMPANION_FILES)[number];
/** Companion file name → its text. */
export type CompanionTexts = Partial<Record<CompanionFile, string>>;
export const WEIGHTS_INDEX_FILE = indexFileName('model');

const SHARD_NAME = /^model-\d{5}-of-\d{5}\.safetensors$/;

export interface HfFolder {
  readonly dir: string;
  /** config.json as parsed JSON (schema checks belong to the model code). */
  readonly config: Record<string, unknown>;
  readonly generationConfig?: Record<string, unknown>;
  /** Path of tokenizer.json when the folder has one. */
  readonly tokenizerJsonPath?: string;
  /** The companion files present, as text (JSON ones checked to hold an object). */
  readonly companions: CompanionTexts;
  /** The weights, read lazily; close() them (or the folder) when done. */
  readonly weights: TensorSource;
  /** The file the weights were opened from: model.safetensors or the index. */
  readonly weightsPath: string;
}

async function listFolder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !isAtomicTempName(n)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CheckpointError(`model folder ${dir} cannot be read`, {
      where: dir,
      expected: 'a folder with config.json and model.safetensors',
      found: code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'a file, not a folder' : String(err),
    });
  }
}

function foundList(files: string[]): string {
  if (files.length === 0) return 'an empty folder';
  const shown = files.slice(0, 20).join(', ');
  return `files: ${shown}${files.length > 20 ? `, ... (${files.length} in all)` : ''}`;
}

/** Read a JSON file that must hold an object; every failure names the file. */
export async function readJsonObjectFile(path: string): Promise<Record<string, unknown>> {
  return parseJsonObject(path, await readTextFile(path));
}

async function readTextFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CheckpointError(`cannot read ${path}`, {
      where: path,
      found: code === 'ENOENT' ? 'no such file' : String((err as Error).message),
    });
  }
  return text;
}

function parseJsonObject(path: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`malformed JSON in ${path}`, {
      where: path,
      expected: 'a JSON object',
      found: (err as Error).message,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CheckpointError(`${path} does not hold a JSON object`, {
      where: path,
      expected: 'a JSON object',
      found: Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value,
    });
  }
  return value as Record<string, unknown>;
}

/** Open a Hugging Face model folder: parse its JSON files and open its weights lazily. */
export async function readHfFolder(dir: string, options: ReadOptions = {}): Promise<HfFolder> {
  const files = await listFolder(dir);
  const has = (name: string) => files.includes(name);
  if (!has(CONFIG_FILE)) {
    throw new CheckpointError(`model folder ${dir} has no ${CONFIG_FILE}`, {
      where: join(dir, CONFIG_FILE),
      expected: CONFIG_FILE,
      found: foundList(files),
      hint: 'a folder without config.json is not a model, or was left by an interrupted write',
    });
  }
  const config = await readJsonObjectFile(join(dir, CONFIG_FILE));
  const companions: CompanionTexts = {};
  for (const name of COMPANION_FILES) {
    if (!has(name)) continue;
    const text = await readTextFile(join(dir, name));
    if (name.endsWith('.json')) parseJsonObject(join(dir, name), text);
    companions[name] = text;
  }
  const generationConfig =
    companions[GENERATION_CONFIG_FILE] !== undefined
      ? parseJsonObject(join(dir, GENERATION_CONFIG_FILE), companions[GENERATION_CONFIG_FILE])
      : undefined;
  const tokenizerJsonPath = has(TOKENIZER_FILE) ? join(dir, TOKENIZER_FILE) : undefined;

  let weightsPath: string;
  let weights: TensorSource;
  // Single file first, as transformers does when both exist.
  if (has(WEIGHTS_FILE)) {
    weightsPath = join(dir, WEIGHTS_FILE);
    weights = await SafetensorsFile.open(weightsPath, options);
  } else if (has(WEIGHTS_INDEX_FILE)) {
    weightsPath = join(dir, WEIGHTS_INDEX_FILE);
    weights = await ShardedSafetensors.open(weightsPath, options);
  } else {
    const torchFiles = files.filter((f) => /\.(bin|pt|pth|ckpt)$/.test(f));
    throw new CheckpointError(`model folder ${dir} has no safetensors weights`, {
      where: dir,
      expected: `${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}`,
      found: foundList(files),
      hint:
        torchFiles.length > 0
          ? `lethe reads safetensors only; convert ${torchFiles.join(', ')} (e.g. save_pretrained(..., safe_serialization=True))`
          : undefined,
    });
  }
  return { dir, config, generationConfig, tokenizerJsonPath, companions, weights, weightsPath };
}

export interface HfFolderContents {
  /** config.json contents (must be a JSON object). */
  config: Record<string, unknown>;
  /** Weights by HF name: Float32Array (or Int32Array) data with a shape; Tensors qualify. */
  tensors: TensorMap;
  generationConfig?: Record<string, unknown>;
  /** tokenizer.json: its text, or a value to serialise. */
  tokenizerJson?: string | Record<string, unknown>;
  /**
   * Companion files, written verbatim (a JSON one must parse to an object). generationConfig,
   * when also given, wins over companions["generation_config.json"].
   */
  companions?: CompanionTexts;
}

export interface HfWriteOptions {
  /** Shard the weights when they exceed this many bytes; one model.safetensors otherwise. */
  maxShardBytes?: number;
  /** Dtype for float weights (F32 by default). */
  dtype?: WriteDType | ((name: string) => WriteDType);
  /** safetensors __metadata__; {format: 'pt'} by default, which transformers requires. */
  metadata?: Record<string, string>;
}

async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Write a Hugging Face model folder (created if needed). Files other than config.json, the
 * weights, tokenizer.json and the companion files are left alone, as are the optional files when
 * not given.
 */
export async function writeHfFolder(
  dir: string,
  contents: HfFolderContents,
  options: HfWriteOptions = {},
): Promise<void> {
  const { config } = contents;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new CheckpointError(`config for ${dir} is not an object`, {
      where: join(dir, CONFIG_FILE),
      expected: 'a JSON object',
      found: Array.isArray(config) ? 'an array' : String(config),
    });
  }
  // Serialise up front so a bad value fails before anything on disk changes.
  const configText = JSON.stringify(config, null, 2);
  const tokenizerText =
    contents.tokenizerJson === undefined || typeof contents.tokenizerJson === 'string'
      ? contents.tokenizerJson
      : JSON.stringify(contents.tokenizerJson);
  const planned = planTensors(tensorEntries(contents.tensors, dir), options.dtype);
  const companions: CompanionTexts = { ...contents.companions };
  for (const [name, text] of Object.entries(companions)) {
    if (!(COMPANION_FILES as readonly string[]).includes(name)) {
      throw new CheckpointError(`${name} is not a companion file`, {
        where: join(dir, name),
        expected: `one of ${COMPANION_FILES.join(', ')}`,
      });
    }
    if (name.endsWith('.json')) parseJsonObject(join(dir, name), text);
  }
  if (contents.generationConfig !== undefined) {
    companions[GENERATION_CONFIG_FILE] = `${JSON.stringify(contents.generationConfig, null, 2)}\n`;
  }

  await mkdir(dir, { recursive: true });
  const configPath = join(dir, CONFIG_FILE);
  if (await removeIfPresent(configPath)) await fsyncDir(dir);

  const metadata = options.metadata ?? { format: 'pt' };
  const sharded = options.maxShardBytes !== undefined && plannedBytes(planned) > options.maxShardBytes;
  const keep = new Set<string>();
  if (sharded) {
    const result = await writeSafetensorsSharded(dir, contents.tensors, {
      maxShardBytes: options.maxShardBytes!,
      dtype: options.dtype,
      metadata,
    });
    for (const f of result.shardFiles) keep.add(f);
    keep.add(WEIGHTS_INDEX_FILE);
  } else {
    await writeSafetensors(join(dir, WEIGHTS_FILE), contents.tensors, { dtype: options.dtype, metadata });
    keep.add(WEIGHTS_FILE);
  }
  // Weight files of an earlier save in the other layout (or with another shard count) would
  // contradict the new weights.
  let removed = false;
  for (const name of await readdir(dir)) {
    const isWeights = name === WEIGHTS_FILE || name === WEIGHTS_INDEX_FILE || SHARD_NAME.test(name);
    if (isWeights && !keep.has(name)) removed = (await removeIfPresent(join(dir, name))) || removed;
  }
  if (removed) await fsyncDir(dir);

  for (const name of COMPANION_FILES) {
    const text = companions[name];
    if (text !== undefined) await writeFileAtomic(join(dir, name), text);
  }
  if (tokenizerText !== undefined) await writeFileAtomic(join(dir, TOKENIZER_FILE), tokenizerText);
  await writeFileAtomic(configPath, `${configText}\n`);
}

/** True when `dir` exists and has a config.json (i.e. a completed write). */
export async function isHfFolder(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, CONFIG_FILE))).isFile();
  } catch {
    return false;
  }
}
