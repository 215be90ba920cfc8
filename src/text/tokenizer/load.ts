/**
 * Loading tokenizers: from a tokenizer.json file, a model folder holding one, or a JSON value.
 * Promises: every problem (missing file, bad JSON, unsupported component, merges that do not fit
 * the vocabulary) is a CheckpointError naming the file and, where there is one, the JSON path or
 * line; in a folder, tokenizer_config.json (if present) names the bos / eos / pad / unk tokens.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../../errors.ts';
import { describeTokenizerJsonIssue, type TokenizerJson, tokenizerJsonSchema } from './schema.ts';
import { type SpecialTokenNames, Tokenizer } from './tokenizer.ts';

export interface LoadTokenizerOptions {
  /** Override or supply the bos / eos / pad / unk token names (null = none). */
  specialTokens?: SpecialTokenNames;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CheckpointError(`cannot read ${what}`, {
      where: path,
      found: (err as Error).message,
      hint:
        what === 'tokenizer.json' ? 'pass a tokenizer.json file or a model folder that holds one' : undefined,
    });
  }
}

/** "line L, column C" for a JSON.parse error message that reports a character position. */
function parseErrorPlace(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return '';
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    throw new CheckpointError('tokenizer.json is not valid JSON', {
      where: `${source}${parseErrorPlace(text, message)}`,
      expected: 'a JSON object',
      found: message,
      hint: 'the file may be truncated or a Git LFS pointer; re-download it',
    });
  }
}

/** Token names from a tokenizer_config.json value (strings or {content} objects). */
function namesFromConfig(config: unknown): SpecialTokenNames {
  if (config === null || typeof config !== 'object') return {};
  const c = config as Record<string, unknown>;
  const one = (key: string): string | null | undefined => {
    if (!(key in c)) return undefined;
    const v = c[key];
    if (v === null) return null;
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
      return (v as { content: string }).content;
    }
    return undefined;
  };
  const out: SpecialTokenNames = {};
  for (const [key, field] of [
    ['bos', 'bos_token'],
    ['eos', 'eos_token'],
    ['pad', 'pad_token'],
    ['unk', 'unk_token'],
  ] as const) {
    const v = one(field);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Validate a tokenizer.json value (or its text) and build the tokenizer. */
export function tokenizerFromJson(
  json: unknown,
  source = '<tokenizer.json>',
  options: LoadTokenizerOptions = {},
): Tokenizer {
  const value = typeof json === 'string' ? parseJson(json, source) : json;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CheckpointError('tokenizer.json is not a JSON object', {
      where: source,
      expected: 'an object with a "model" key',
      found: Array.isArray(value) ? 'an array' : JSON.stringify(value),
    });
  }
  if (!('model' in value)) {
    throw new CheckpointError('tokenizer.json has no model', {
      where: `${source} at model`,
      expected: 'a "model" object (type BPE, vocab, merges)',
      found: `keys ${Object.keys(value).join(', ') || '(none)'}`,
    });
  }
  const parsed = tokenizerJsonSchema.safeParse(value);
  if (!parsed.success) throw describeTokenizerJsonIssue(parsed.error.issues, value, source);
  // zod rebuilds records by assignment, which silently drops a "__proto__" key; the vocabulary
  // it has just validated is taken from the input instead.
  const data = {
    ...parsed.data,
    model: { ...parsed.data.model, vocab: (value as TokenizerJson).model.vocab },
  };
  return new Tokenizer(data, source, options.specialTokens);
}

/**
 * Load a tokenizer from a tokenizer.json file or a folder containing one (plus an optional
 * tokenizer_config.json naming the special tokens; explicit options win over it).
 */
export function loadTokenizer(path: string, options: LoadTokenizerOptions = {}): Tokenizer {
  let file = path;
  let names: SpecialTokenNames = {};
  if (existsSync(path) && statSync(path).isDirectory()) {
    file = join(path, 'tokenizer.json');
    if (!existsSync(file)) {
      throw new CheckpointError('model folder has no tokenizer.json', {
        where: path,
        expected: 'a tokenizer.json file in the folder',
        found: 'none',
        hint: 'lethe reads Hugging Face fast-tokenizer files; convert vocab/merges or sentencepiece models first',
      });
    }
    const configPath = join(path, 'tokenizer_config.json');
    if (existsSync(configPath)) {
      const text = readText(configPath, 'tokenizer_config.json');
      try {
        names = namesFromConfig(JSON.parse(text));
      } catch (err) {
        throw new CheckpointError('tokenizer_config.json is not valid JSON', {
          where: `${configPath}${parseErrorPlace(text, (err as Error).message)}`,
          found: (err as Error).message,
        });
      }
    }
  }
  const text = readText(file, 'tokenizer.json');
  return tokenizerFromJson(parseJson(text, file), file, {
    specialTokens: { ...names, ...options.specialTokens },
  });
}
