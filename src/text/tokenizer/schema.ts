/**
 * The subset of Hugging Face `tokenizer.json` that lethe supports, as zod schemas and TypeScript
 * types: BPE models (GPT-2 byte-level and Llama/Mistral byte-fallback families) with their
 * normalizers, pre-tokenizers, post-processors and decoders. Promises: anything outside the subset
 * fails to parse, and `describeTokenizerJsonIssue` turns the failure into a CheckpointError that
 * names the file, the JSON path, what was found and what is supported. Objects are loose (unknown
 * keys are kept, not rejected): HF adds informational keys across versions, and keeping them lets a
 * loaded file be saved back without losing anything.
 */
import { z } from 'zod';
import { CheckpointError } from '../../errors.ts';

export type PrependScheme = 'always' | 'first' | 'never';

export type Pattern = { String: string } | { Regex: string };

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

export type NormalizerJson =
  | { type: 'Sequence'; normalizers: NormalizerJson[] }
  | { type: 'Prepend'; prepend: string }
  | { type: 'Replace'; pattern: Pattern; content: string }
  | { type: 'NFC' | 'NFD' | 'NFKC' | 'NFKD' | 'Lowercase' };

export type PreTokenizerJson =
  | { type: 'Sequence'; pretokenizers: PreTokenizerJson[] }
  | { type: 'ByteLevel'; add_prefix_space?: boolean; trim_offsets?: boolean; use_regex?: boolean }
  | MetaspaceJson;

export interface MetaspaceJson {
  type: 'Metaspace';
  replacement: string;
  prepend_scheme?: PrependScheme;
  /** Older files: true = prepend_scheme 'always', false = 'never'. */
  add_prefix_space?: boolean;
  split?: boolean;
}

export type DecoderJson =
  | { type: 'Sequence'; decoders: DecoderJson[] }
  | { type: 'ByteLevel'; add_prefix_space?: boolean; trim_offsets?: boolean; use_regex?: boolean }
  | MetaspaceJson
  | { type: 'Replace'; pattern: Pattern; content: string }
  | { type: 'ByteFallback' }
  | { type: 'Fuse' }
  | { type: 'Strip'; content: string; start: number; stop: number };

export type TemplatePieceJson =
  | { SpecialToken: { id: string; type_id?: number } }
  | { Sequence: { id: 'A' | 'B'; type_id?: number } };

export type PostProcessorJson =
  | { type: 'Sequence'; processors: PostProcessorJson[] }
  | { type: 'ByteLevel'; add_prefix_space?: boolean; trim_offsets?: boolean; use_regex?: boolean }
  | {
      type: 'TemplateProcessing';
      single: TemplatePieceJson[];
      pair?: TemplatePieceJson[];
      special_tokens: Record<string, { id: string; ids: number[]; tokens: string[] }>;
    };

export interface BpeModelJson {
  type?: 'BPE';
  vocab: Record<string, number>;
  merges: (string | [string, string])[];
  unk_token?: string | null;
  continuing_subword_prefix?: string | null;
  end_of_word_suffix?: string | null;
  fuse_unk?: boolean;
  byte_fallback?: boolean;
  ignore_merges?: boolean;
  dropout?: number | null;
}

export interface TokenizerJson {
  version?: string;
  truncation?: unknown;
  padding?: unknown;
  added_tokens?: AddedTokenJson[];
  normalizer?: NormalizerJson | null;
  pre_tokenizer?: PreTokenizerJson | null;
  post_processor?: PostProcessorJson | null;
  decoder?: DecoderJson | null;
  model: BpeModelJson;
}

const pattern = z.union([z.looseObject({ String: z.string() }), z.looseObject({ Regex: z.string() })]);
/**
 * The largest token id accepted: far above any real vocabulary (the largest are ~1M tokens), low
 * enough that the id → token table of a hostile file cannot exhaust memory.
 */
export const MAX_TOKEN_ID = 2 ** 24 - 1;
const id = z.number().int().nonnegative().max(MAX_TOKEN_ID);

const addedToken = z.looseObject({
  id,
  content: z.string().min(1),
  single_word: z.boolean().optional(),
  lstrip: z.boolean().optional(),
  rstrip: z.boolean().optional(),
  normalized: z.boolean().optional(),
  special: z.boolean().optional(),
});

const normalizer: z.ZodType<NormalizerJson> = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('Sequence'), normalizers: z.array(z.lazy(() => normalizer)) }),
  z.looseObject({ type: z.literal('Prepend'), prepend: z.string() }),
  z.looseObject({ type: z.literal('Replace'), pattern, content: z.string() }),
  z.looseObject({ type: z.literal('NFC') }),
  z.looseObject({ type: z.literal('NFD') }),
  z.looseObject({ type: z.literal('NFKC') }),
  z.looseObject({ type: z.literal('NFKD') }),
  z.looseObject({ type: z.literal('Lowercase') }),
]);

const byteLevel = z.looseObject({
  type: z.literal('ByteLevel'),
  add_prefix_space: z.boolean().optional(),
  trim_offsets: z.boolean().optional(),
  use_regex: z.boolean().optional(),
});

const metaspace = z.looseObject({
  type: z.literal('Metaspace'),
  replacement: z.string().length(1),
  prepend_scheme: z.enum(['always', 'first', 'never']).optional(),
  add_prefix_space: z.boolean().optional(),
  split: z.boolean().optional(),
});

const preTokenizer: z.ZodType<PreTokenizerJson> = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('Sequence'), pretokenizers: z.array(z.lazy(() => preTokenizer)) }),
  byteLevel,
  metaspace,
]);

const decoder: z.ZodType<DecoderJson> = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('Sequence'), decoders: z.array(z.lazy(() => decoder)) }),
  byteLevel,
  metaspace,
  z.looseObject({ type: z.literal('Replace'), pattern, content: z.string() }),
  z.looseObject({ type: z.literal('ByteFallback') }),
  z.looseObject({ type: z.literal('Fuse') }),
  z.looseObject({
    type: z.literal('Strip'),
    content: z.string().length(1),
    start: z.number().int().nonnegative(),
    stop: z.number().int().nonnegative(),
  }),
]);

const templatePiece = z.union([
  z.looseObject({ SpecialToken: z.looseObject({ id: z.string(), type_id: z.number().int().optional() }) }),
  z.looseObject({
    Sequence: z.looseObject({ id: z.enum(['A', 'B']), type_id: z.number().int().optional() }),
  }),
]);

const postProcessor: z.ZodType<PostProcessorJson> = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('Sequence'), processors: z.array(z.lazy(() => postProcessor)) }),
  byteLevel,
  z.looseObject({
    type: z.literal('TemplateProcessing'),
    single: z.array(templatePiece),
    pair: z.array(templatePiece).optional(),
    special_tokens: z.record(
      z.string(),
      z.looseObject({ id: z.string(), ids: z.array(id), tokens: z.array(z.string()) }),
    ),
  }),
]);

const bpeModel = z.looseObject({
  // GPT-2's original file has no "type"; HF then infers BPE from the fields, and so do we.
  type: z.literal('BPE').optional(),
  vocab: z.record(z.string(), id),
  merges: z.array(z.union([z.string(), z.tuple([z.string(), z.string()])])),
  unk_token: z.string().nullable().optional(),
  continuing_subword_prefix: z.string().nullable().optional(),
  end_of_word_suffix: z.string().nullable().optional(),
  fuse_unk: z.boolean().optional(),
  byte_fallback: z.boolean().optional(),
  ignore_merges: z.boolean().optional(),
  dropout: z.number().nullable().optional(),
});

export const tokenizerJsonSchema: z.ZodType<TokenizerJson> = z.looseObject({
  version: z.string().optional(),
  truncation: z.unknown().optional(),
  padding: z.unknown().optional(),
  added_tokens: z.array(addedToken).optional(),
  normalizer: normalizer.nullable().optional(),
  pre_tokenizer: preTokenizer.nullable().optional(),
  post_processor: postProcessor.nullable().optional(),
  decoder: decoder.nullable().optional(),
  model: bpeModel,
});

/** What lethe supports, for error messages. */
export const SUPPORTED = {
  model: ['BPE'],
  normalizer: ['Sequence', 'Prepend', 'Replace', 'NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'null'],
  pre_tokenizer: ['Sequence', 'ByteLevel', 'Metaspace', 'null'],
  post_processor: ['Sequence', 'ByteLevel', 'TemplateProcessing', 'null'],
  decoder: ['Sequence', 'ByteLevel', 'Metaspace', 'Replace', 'ByteFallback', 'Fuse', 'Strip', 'null'],
} as const;

/** `a.b[2].c` from a zod path. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing (the key is missing)';
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** The section a path lies in, for the list of supported types. */
function sectionOf(path: readonly PropertyKey[]): keyof typeof SUPPORTED | undefined {
  const head = path[0];
  return typeof head === 'string' && head in SUPPORTED ? (head as keyof typeof SUPPORTED) : undefined;
}

/** A CheckpointError for the first schema issue (others are counted). */
export function describeTokenizerJsonIssue(
  issues: readonly z.core.$ZodIssue[],
  root: unknown,
  source: string,
) {
  // A union reports one issue per branch; the discriminator issue is the useful one.
  const issue = issues.find((i) => i.code === 'invalid_union' && 'discriminator' in i) ?? issues[0];
  const path = issue.path;
  const where = `${source} at ${jsonPath(path)}`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem(s))` : '';
  const section = sectionOf(path);
  const lastKey = path[path.length - 1];
  if (lastKey === 'type' && section !== undefined) {
    return new CheckpointError(`unsupported ${section} type in tokenizer.json${more}`, {
      where,
      expected: `one of: ${SUPPORTED[section].join(', ')}`,
      found: show(valueAt(root, path)),
      hint:
        section === 'model'
          ? 'lethe loads BPE tokenizers (GPT-2 byte-level and Llama/Mistral byte-fallback families)'
          : 'lethe supports the GPT-2 and Llama/Mistral pipelines; other components are not implemented',
    });
  }
  return new CheckpointError(`malformed tokenizer.json${more}`, {
    where,
    expected: issue.message,
    found: show(valueAt(root, path)),
  });
}
