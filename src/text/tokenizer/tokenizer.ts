/**
 * Tokenizer: a loaded (or freshly trained) Hugging Face-format BPE tokenizer. Encoding runs
 * added-token matching -> normalizer -> pre-tokenizer -> BPE -> post-processor; decoding maps ids
 * to tokens and runs the decoder. Promises: the same ids and text as HF `tokenizers` for the
 * supported subset (see schema.ts); `toJSON()` returns a tokenizer.json that loads back to an
 * identical tokenizer, and `save` writes it atomically. It never truncates or pads on its own.
 */
import { CheckpointError, ConfigError, DataError } from '../../errors.ts';
import { writeJsonAtomic } from '../../io/atomic.ts';
import { type AddedToken, AddedTokenMatcher } from './added-tokens.ts';
import { BpeModel } from './bpe.ts';
import {
  buildDecoder,
  buildNormalizer,
  buildPostProcessor,
  buildPreTokenizer,
  type Decoder,
  type Normalizer,
  type PostProcessor,
  type PreTokenizer,
  templateEnds,
} from './pipeline.ts';
import type { TokenizerJson } from './schema.ts';

export interface EncodeOptions {
  /** Apply the post-processor (e.g. prepend `<s>` for Llama/Mistral). Default true, as in HF. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out tokens marked `special` (e.g. `<s>`, `<|endoftext|>`). Default false, as in HF. */
  skipSpecialTokens?: boolean;
}

/**
 * Names of the bos / eos / pad / unk tokens, as tokenizer_config.json gives them. `null` means
 * "this tokenizer has none"; a missing key means "infer it" (see Tokenizer.bosId).
 */
export interface SpecialTokenNames {
  bos?: string | null;
  eos?: string | null;
  pad?: string | null;
  unk?: string | null;
}

export interface PadOptions {
  /** Id written into padding positions; defaults to padId, then eosId. */
  padId?: number;
  /** Where padding goes; 'right' (default) for training, 'left' for batched generation. */
  side?: 'left' | 'right';
  /** Length of every row; rows longer than this are an error (no silent truncation). */
  length?: number;
}

export interface PaddedBatch {
  /** Row-major (B, T) ids. */
  ids: Int32Array;
  /** (B, T): 1 for real tokens, 0 for padding. */
  mask: Uint8Array;
  /** Real length of each row. */
  lengths: number[];
  shape: [number, number];
}

// Conventional names, tried in order when neither the config nor the template says.
const BOS_NAMES = ['<s>', '<|begin_of_text|>', '<bos>', '<|startoftext|>', '<|endoftext|>'];
const EOS_NAMES = ['</s>', '<|endoftext|>', '<|end_of_text|>', '<eos>'];
const PAD_NAMES = ['<pad>', '<|pad|>', '[PAD]'];

export class Tokenizer {
  /** Where this tokenizer came from (a path, or a description), for error messages. */
  readonly source: string;
  /** One more than the largest id (vocabulary and added tokens). */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  readonly unkId: number | undefined;

  private readonly json: TokenizerJson;
  private readonly model: BpeModel;
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly specialIds = new Set<number>();
  private readonly rawMatcher: AddedTokenMatcher;
  private readonly normalizedMatcher: AddedTokenMatcher;
  private readonly normalizer: Normalizer | null;
  private readonly preTokenizer: PreTokenizer;
  private readonly postProcessor: PostProcessor | null;
  private readonly decoder: Decoder | null;

  /** Build from an already validated tokenizer.json object (use loadTokenizer / tokenizerFromJson). */
  constructor(json: TokenizerJson, source = '<tokenizer.json>', names: SpecialTokenNames = {}) {
    this.json = json;
    this.source = source;
    const m = json.model;
    if (m.dropout != null && m.dropout !== 0) {
      throw new CheckpointError('BPE dropout is not supported', {
        where: `${source} at model.dropout`,
        expected: 'null or 0 (lethe tokenizes deterministically)',
        found: String(m.dropout),
      });
    }
    const merges = m.merges.map((entry, i): [string, string] => {
      if (typeof entry !== 'string') return entry;
      const parts = entry.split(' ');
      if (parts.length !== 2) {
        throw new CheckpointError('merge is not two space-separated tokens', {
          where: `${source} at model.merges[${i}]`,
          expected: '"left right" or ["left", "right"]',
          found: JSON.stringify(entry),
        });
      }
      return [parts[0], parts[1]];
    });
    this.model = new BpeModel({
      vocab: new Map(Object.entries(m.vocab)),
      merges,
      unkToken: m.unk_token,
      continuingSubwordPrefix: m.continuing_subword_prefix,
      endOfWordSuffix: m.end_of_word_suffix,
      fuseUnk: m.fuse_unk,
      byteFallback: m.byte_fallback,
      ignoreMerges: m.ignore_merges,
      source,
    });

    let size = this.model.size;
    (json.added_tokens ?? []).forEach((t, i) => {
      const inVocab = this.model.vocab.get(t.content);
      const holder = this.model.idToTokenTable[t.id];
      if ((inVocab !== undefined && inVocab !== t.id) || (holder !== undefined && holder !== t.content)) {
        throw new CheckpointError('added token disagrees with the vocabulary', {
          where: `${source} at added_tokens[${i}]`,
          expected: `${JSON.stringify(t.content)} to have the same id in added_tokens and model.vocab`,
          found: `added id ${t.id}; vocab has ${JSON.stringify(t.content)}=${inVocab ?? 'absent'}, id ${t.id}=${JSON.stringify(holder ?? null)}`,
        });
      }
      const token: AddedToken = {
        id: t.id,
        content: t.content,
        singleWord: t.single_word ?? false,
        lstrip: t.lstrip ?? false,
        rstrip: t.rstrip ?? false,
        normalized: t.normalized ?? !(t.special ?? false),
        special: t.special ?? false,
      };
      this.addedById.set(t.id, token);
      this.addedByContent.set(t.content, token);
      if (token.special) this.specialIds.add(t.id);
      size = Math.max(size, t.id + 1);
    });
    this.vocabSize = size;

    this.normalizer = buildNormalizer(json.normalizer, `${source} at normalizer`);
    const added = [...this.addedById.values()];
    // Without a normalizer "normalized" and raw text are the same, so one pass finds everything.
    const onNormalized = (t: AddedToken) => this.normalizer !== null && t.normalized;
    this.rawMatcher = new AddedTokenMatcher(added.filter((t) => !onNormalized(t)));
    this.normalizedMatcher = new AddedTokenMatcher(added.filter(onNormalized));
    this.preTokenizer = buildPreTokenizer(json.pre_tokenizer);
    this.postProcessor = buildPostProcessor(json.post_processor, `${source} at post_processor`);
    this.decoder = json.decoder ? buildDecoder(json.decoder, `${source} at decoder`) : null;

    const ends = templateEnds(json.post_processor);
    const pick = (key: keyof SpecialTokenNames, fromTemplate: number | undefined, candidates: string[]) => {
      const named = names[key];
      if (named === null) return undefined;
      if (named !== undefined) {
        const id = this.tokenToId(named);
        if (id === undefined) {
          throw new ConfigError(`${key} token is not in the tokenizer`, {
            where: source,
            expected: 'a token of the vocabulary or added_tokens',
            found: JSON.stringify(named),
          });
        }
        return id;
      }
      if (fromTemplate !== undefined) return fromTemplate;
      for (const c of candidates) {
        const t = this.addedByContent.get(c);
        if (t?.special) return t.id;
      }
      return undefined;
    };
    this.unkId = pick('unk', this.model.unkId, ['<unk>', '[UNK]']);
    this.bosId = pick('bos', ends.before[0], BOS_NAMES);
    this.eosId = pick('eos', ends.after[ends.after.length - 1], EOS_NAMES);
    this.padId = pick('pad', undefined, PAD_NAMES);
  }

  /** Token ids of `text`. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    for (const seg of this.rawMatcher.split(text)) {
      if ('id' in seg) {
        ids.push(seg.id);
        continue;
      }
      if (this.normalizer === null) {
        this.encodePlain(seg.text, seg.start === 0, ids);
        continue;
      }
      for (const inner of this.normalizedMatcher.split(this.normalizer(seg.text))) {
        if ('id' in inner) ids.push(inner.id);
        else this.encodePlain(inner.text, seg.start === 0 && inner.start === 0, ids);
      }
    }
    const add = options.addSpecialTokens ?? true;
    return add && this.postProcessor ? this.postProcessor(ids) : ids;
  }

  /** The token strings of `text` (no post-processing), mainly for inspection and tests. */
  tokenize(text: string): string[] {
    return this.encode(text, { addSpecialTokens: false }).map((id) => this.idToToken(id)!);
  }

  encodeBatch(texts: readonly string[], options: EncodeOptions = {}): number[][] {
    return texts.map((t) => this.encode(t, options));
  }

  /** Text of `ids`. Ids outside the vocabulary are an error (HF skips them silently). */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? false;
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const token = this.idToToken(id);
      if (token === undefined) {
        throw new DataError('token id outside the vocabulary', {
          where: `${this.source}: decode, position ${i}`,
          expected: `an id of the vocabulary (0..${this.vocabSize - 1})`,
          found: String(id),
          hint: 'a model whose embedding is padded beyond the vocabulary can sample such ids; mask them',
        });
      }
      if (skip && this.specialIds.has(id)) continue;
      tokens.push(token);
    }
    // HF joins with spaces when a tokenizer has no decoder.
    return this.decoder ? this.decoder(tokens).join('') : tokens.join(' ');
  }

  decodeBatch(rows: readonly ArrayLike<number>[], options: DecodeOptions = {}): string[] {
    return rows.map((r) => this.decode(r, options));
  }

  /** Pack rows of ids into a (B, T) array with a mask, padding to the longest row or `length`. */
  pad(rows: readonly (readonly number[])[], options: PadOptions = {}): PaddedBatch {
    const padId = options.padId ?? this.padId ?? this.eosId;
    if (padId === undefined) {
      throw new ConfigError('no id to pad with', {
        where: this.source,
        expected: 'options.padId, or a tokenizer with a pad or eos token',
        found: 'neither',
      });
    }
    const longest = rows.reduce((a, r) => Math.max(a, r.length), 0);
    const T = options.length ?? longest;
    if (longest > T) {
      throw new DataError('row longer than the padded length', {
        where: `${this.source}: pad`,
        expected: `rows of at most ${T} ids`,
        found: `a row of ${longest}`,
      });
    }
    const B = rows.length;
    const ids = new Int32Array(B * T).fill(padId);
    const mask = new Uint8Array(B * T);
    rows.forEach((row, b) => {
      const offset = b * T + (options.side === 'left' ? T - row.length : 0);
      ids.set(row, offset);
      mask.fill(1, offset, offset + row.length);
    });
    return { ids, mask, lengths: rows.map((r) => r.length), shape: [B, T] };
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.model.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToTokenTable[id];
  }

  /** True for ids of added tokens marked special. */
  isSpecialId(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** The tokenizer.json this tokenizer was built from. */
  toJSON(): TokenizerJson {
    return this.json;
  }

  /** Write tokenizer.json to `path` atomically (temporary file in the same folder, then rename). */
  async save(path: string): Promise<void> {
    await writeJsonAtomic(path, this.json, { indent: 2 });
  }

  private encodePlain(text: string, atStart: boolean, out: number[]): void {
    for (const word of this.preTokenizer(text, atStart)) this.model.encodeWordInto(word, out);
  }
}
