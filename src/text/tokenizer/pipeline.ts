/**
 * The stages around the BPE model, built from their tokenizer.json descriptions: normalizers
 * (string -> string), pre-tokenizers (string -> words), post-processors (ids -> ids with special
 * tokens) and decoders (tokens -> strings). Promises: each stage behaves as its Hugging Face
 * `tokenizers` namesake for the options the schema accepts (offsets are not tracked: lethe needs
 * ids and text, not alignments).
 */
import { CheckpointError } from '../../errors.ts';
import { fromByteLevel, GPT2_SPLIT_PATTERN, toByteLevel } from './byte-level.ts';
import { regexRisk } from './regex-safety.ts';
import type {
  DecoderJson,
  MetaspaceJson,
  NormalizerJson,
  Pattern,
  PostProcessorJson,
  PrependScheme,
  PreTokenizerJson,
} from './schema.ts';

export type Normalizer = (text: string) => string;
/** `atStart`: the text begins at offset 0 of the caller's input (Metaspace 'first' needs it). */
export type PreTokenizer = (text: string, atStart: boolean) => string[];
export type PostProcessor = (ids: number[]) => number[];
export type Decoder = (tokens: string[]) => string[];

function compilePattern(p: Pattern, where: string): RegExp {
  if ('String' in p) return new RegExp(p.String.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
  const risk = regexRisk(p.Regex);
  if (risk !== null) {
    throw new CheckpointError('regex pattern could take exponential time (catastrophic backtracking)', {
      where,
      expected: 'a pattern without nested repetition, repeated alternation or backreferences',
      found: `${JSON.stringify(p.Regex)}: ${risk}`,
    });
  }
  try {
    return new RegExp(p.Regex, 'gu');
  } catch (err) {
    throw new CheckpointError('regex pattern is not valid in JavaScript', {
      where,
      expected: 'a pattern JavaScript RegExp accepts (u flag)',
      found: `${JSON.stringify(p.Regex)}: ${(err as Error).message}`,
    });
  }
}

export function buildNormalizer(spec: NormalizerJson | null | undefined, where: string): Normalizer | null {
  if (!spec) return null;
  switch (spec.type) {
    case 'Sequence': {
      const parts = spec.normalizers
        .map((n, i) => buildNormalizer(n, `${where}.normalizers[${i}]`))
        .filter((n): n is Normalizer => n !== null);
      return (s) => parts.reduce((acc, f) => f(acc), s);
    }
    case 'Prepend': {
      const pre = spec.prepend;
      return (s) => (s.length > 0 ? pre + s : s);
    }
    case 'Replace': {
      const re = compilePattern(spec.pattern, `${where}.pattern`);
      const content = spec.content;
      return (s) => s.replace(re, () => content);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = spec.type;
      return (s) => s.normalize(form);
    }
    case 'Lowercase':
      return (s) => s.toLowerCase();
  }
}

/** The effective prepend scheme of a Metaspace (older files carry add_prefix_space instead). */
export function metaspaceScheme(spec: MetaspaceJson): PrependScheme {
  if (spec.prepend_scheme) return spec.prepend_scheme;
  return spec.add_prefix_space === false ? 'never' : 'always';
}

export function buildPreTokenizer(spec: PreTokenizerJson | null | undefined): PreTokenizer {
  if (!spec) return (s) => [s];
  switch (spec.type) {
    case 'Sequence': {
      const parts = spec.pretokenizers.map((p) => buildPreTokenizer(p));
      return (text, atStart) => {
        let pieces = [text];
        for (const part of parts) {
          // Only the first piece of the text can still begin at offset 0.
          pieces = pieces.flatMap((p, i) => part(p, atStart && i === 0));
        }
        return pieces;
      };
    }
    case 'ByteLevel': {
      // HF's default for a missing add_prefix_space is true.
      const prefix = spec.add_prefix_space ?? true;
      const useRegex = spec.use_regex ?? true;
      const re = new RegExp(GPT2_SPLIT_PATTERN, 'gu');
      return (text) => {
        const t = prefix && !text.startsWith(' ') ? ` ${text}` : text;
        const words = useRegex ? (t.match(re) ?? []) : [t];
        return words.map(toByteLevel);
      };
    }
    case 'Metaspace': {
      const rep = spec.replacement;
      const scheme = metaspaceScheme(spec);
      const split = spec.split ?? true;
      return (text, atStart) => {
        if (text.length === 0) return [];
        let t = text.replaceAll(' ', rep);
        if ((scheme === 'always' || (scheme === 'first' && atStart)) && !t.startsWith(rep)) t = rep + t;
        if (!split) return [t];
        // Split before every replacement character (HF's MergedWithNext).
        const out: string[] = [];
        let start = 0;
        for (let i = t.indexOf(rep, 1); i !== -1; i = t.indexOf(rep, i + 1)) {
          out.push(t.slice(start, i));
          start = i;
        }
        out.push(t.slice(start));
        return out;
      };
    }
  }
}

/** Resolves template token names to ids; throws when the template names an unknown token. */
export function buildPostProcessor(
  spec: PostProcessorJson | null | undefined,
  where: string,
): PostProcessor | null {
  if (!spec) return null;
  switch (spec.type) {
    case 'ByteLevel':
      return null; // only adjusts offsets in HF
    case 'Sequence': {
      const parts = spec.processors
        .map((p, i) => buildPostProcessor(p, `${where}.processors[${i}]`))
        .filter((p): p is PostProcessor => p !== null);
      return parts.length === 0 ? null : (ids) => parts.reduce((acc, f) => f(acc), ids);
    }
    case 'TemplateProcessing': {
      const pieces: (number[] | 'A')[] = spec.single.map((piece, i) => {
        if ('Sequence' in piece) {
          if (piece.Sequence.id !== 'A') {
            throw new CheckpointError('single-sequence template refers to sequence B', {
              where: `${where}.single[${i}]`,
              expected: "Sequence id 'A'",
              found: "'B'",
            });
          }
          return 'A';
        }
        const name = piece.SpecialToken.id;
        const entry = spec.special_tokens[name];
        if (!entry) {
          throw new CheckpointError('template uses a special token it does not define', {
            where: `${where}.single[${i}]`,
            expected: `a key of ${where}.special_tokens (${Object.keys(spec.special_tokens).join(', ') || 'none'})`,
            found: JSON.stringify(name),
          });
        }
        return entry.ids;
      });
      return (ids) => {
        const out: number[] = [];
        for (const p of pieces) {
          if (p === 'A') for (const id of ids) out.push(id);
          else out.push(...p);
        }
        return out;
      };
    }
  }
}

/** The special-token ids a single-sequence template puts before and after the text. */
export function templateEnds(spec: PostProcessorJson | null | undefined): {
  before: number[];
  after: number[];
} {
  const ends = { before: [] as number[], after: [] as number[] };
  if (!spec) return ends;
  if (spec.type === 'Sequence') {
    for (const p of spec.processors) {
      const e = templateEnds(p);
      ends.before.push(...e.before);
      ends.after.push(...e.after);
    }
    return ends;
  }
  if (spec.type !== 'TemplateProcessing') return ends;
  let seenA = false;
  for (const piece of spec.single) {
    if ('Sequence' in piece) seenA = true;
    else (seenA ? ends.after : ends.before).push(...(spec.special_tokens[piece.SpecialToken.id]?.ids ?? []));
  }
  return ends;
}

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // keep a leading U+FEFF

export function buildDecoder(spec: DecoderJson | null | undefined, where: string): Decoder {
  if (!spec) return (tokens) => tokens;
  switch (spec.type) {
    case 'Sequence': {
      const parts = spec.decoders.map((d, i) => buildDecoder(d, `${where}.decoders[${i}]`));
      return (tokens) => parts.reduce((acc, f) => f(acc), tokens);
    }
    case 'ByteLevel':
      return (tokens) => [fromByteLevel(tokens)];
    case 'Metaspace': {
      const rep = spec.replacement;
      const dropFirst = metaspaceScheme(spec) !== 'never';
      // As in HF: in the first token every replacement character is dropped, elsewhere it is a space.
      return (tokens) => tokens.map((t, i) => t.replaceAll(rep, i === 0 && dropFirst ? '' : ' '));
    }
    case 'Replace': {
      const re = compilePattern(spec.pattern, `${where}.pattern`);
      const content = spec.content;
      return (tokens) => tokens.map((t) => t.replace(re, () => content));
    }
    case 'ByteFallback':
      return (tokens) => {
        const out: string[] = [];
        let bytes: number[] = [];
        const flush = () => {
          if (bytes.length === 0) return;
          try {
            out.push(utf8Strict.decode(Uint8Array.from(bytes)));
          } catch {
            // HF emits one replacement character per byte of an invalid run.
            for (let i = 0; i < bytes.length; i++) out.push('\uFFFD');
          }
          bytes = [];
        };
        for (const t of tokens) {
          const m = t.length === 6 ? BYTE_TOKEN.exec(t) : null;
          if (m) {
            bytes.push(Number.parseInt(m[1], 16));
          } else {
            flush();
            out.push(t);
          }
        }
        flush();
        return out;
      };
    case 'Fuse':
      return (tokens) => [tokens.join('')];
    case 'Strip': {
      const { content, start, stop } = spec;
      return (tokens) =>
        tokens.map((t) => {
          let a = 0;
          while (a < start && a < t.length && t[a] === content) a++;
          let b = t.length;
          while (t.length - b < stop && b > a && t[b - 1] === content) b--;
          return t.slice(a, b);
        });
    }
  }
}
