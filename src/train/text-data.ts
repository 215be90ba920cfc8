/**
 * Training data from files: plain text (.txt, cut into token blocks for pretraining) or JSONL
 * lines of {"text"} (one example each), {"prompt","answer"} (loss on the answer only) or
 * {"question","answer"} (a QA pair asked through the QA prompt format, as tasks are trained).
 *
 * Promises: memory stays bounded whatever the corpus size (for text, as long as lines or runs
 * between spaces stay short). The file is read in chunks, tokenized piece by piece into a token
 * file on disk (int32 ids plus a 16-byte index entry per example), and batches read their
 * examples back with positioned reads; only per-epoch orderings (4 bytes per example) live in
 * memory. Text is encoded in pieces cut at a newline (or, in a line over 1 MiB, a space) with
 * non-space characters on both sides: for GPT-2-style byte-level pre-tokenizers those are
 * pre-token boundaries, so the ids equal those of encoding the whole text at once.
 * Tokenizer training from scratch uses the first TOKENIZER_SAMPLE_BYTES of the corpus.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type ExampleLine, exampleLineSchema } from '../data/example-lines.ts';
import { DataError } from '../errors.ts';
import { iterateJsonl } from '../io/jsonl.ts';
import { processAlive } from '../io/lock.ts';
import { Rng } from '../tensor/index.ts';
import { type Batch, collate, type Example } from '../text/batch.ts';
import { qaAnswer, qaPrompt } from '../text/format.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import type { BatchSource } from './trainer.ts';

const LineSchema = exampleLineSchema(['text', 'prompt', 'question']);
export type TrainLine = { text: string } | { prompt: string; answer: string };

/** A {question, answer} line as the {prompt, answer} it is trained as. */
function asPromptAnswer(l: ExampleLine): TrainLine {
  if ('question' in l) return { prompt: qaPrompt(l.question), answer: qaAnswer(l.answer) };
  return l as TrainLine;
}

/** How much of a corpus a tokenizer trained from scratch sees (its first bytes). */
export const TOKENIZER_SAMPLE_BYTES = 8 << 20;
/**
 * Files are read, and text encoded, in pieces of about this size: small enough that their
 * garbage dies in V8's young generation instead of growing the old one with the corpus.
 */
const CHUNK_BYTES = 1 << 16;
const PIECE_CHARS = 1 << 16;
/** Past this many characters without a newline, a piece may also be cut at a space. */
const LONG_LINE_CHARS = 1 << 20;
const INDEX_BYTES = 16; // float64 token offset, int32 length, int32 first scored position

export interface TrainingCorpus {
  file: string;
  kind: 'text' | 'jsonl';
  /** sha256 (hex) of the file's bytes. */
  sha256: string;
  /** Texts for tokenizer training: the corpus up to about maxBytes. */
  sample(maxBytes?: number): Promise<string[]>;
  /** Tokenize the whole corpus into an example store in workDir (a folder this call creates). */
  tokenize(
    tokenizer: Tokenizer,
    seqLen: number,
    workDir: string,
    opts?: { pieceChars?: number },
  ): Promise<ExampleStore>;
}

function readError(file: string, e: unknown): DataError {
  return new DataError('cannot read training data', {
    where: file,
    found: (e as Error).message,
    expected: 'a readable UTF-8 text or JSONL file',
  });
}

/** Decoded text of a file, chunk by chunk (strict UTF-8; a BOM is dropped). */
async function* textChunks(file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
      let text: string;
      try {
        text = decoder.decode(chunk as Buffer, { stream: true });
      } catch {
        throw new DataError('training text is not valid UTF-8', {
          where: `${file} (near byte ${offset})`,
          expected: 'a UTF-8 text file',
        });
      }
      offset += (chunk as Buffer).length;
      if (text) yield text;
    }
    const tail = decoder.decode();
    if (tail) yield tail;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw readError(file, e);
  }
}

/** Open a training file: checks that it is readable and non-empty, and hashes it (one pass). */
export async function openTrainingData(file: string): Promise<TrainingCorpus> {
  const kind = file.endsWith('.jsonl') ? 'jsonl' : 'text';
  const hash = createHash('sha256');
  let nonBlank = false;
  if (kind === 'text') {
    // Decoding here also rejects invalid UTF-8 before any work is spent on the file.
    for await (const text of textChunks(file)) {
      if (!nonBlank && text.trim() !== '') nonBlank = true;
    }
  }
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK_BYTES }))
      hash.update(chunk as Buffer);
  } catch (e) {
    throw readError(file, e);
  }
  if (kind === 'text' && !nonBlank) throw new DataError('training text is empty', { where: file });
  const sha256 = hash.digest('hex');
  async function* lines(): AsyncGenerator<{ value: TrainLine }> {
    for await (const { value } of iterateJsonl(file, { schema: LineSchema }))
      yield { value: asPromptAnswer(value) };
  }
  const lineText = (l: TrainLine) => ('text' in l ? l.text : `${l.prompt}${l.answer}`);
  return {
    file,
    kind,
    sha256,
    async sample(maxBytes = TOKENIZER_SAMPLE_BYTES) {
      const out: string[] = [];
      let size = 0;
      if (kind === 'text') {
        let text = '';
        for await (const chunk of textChunks(file)) {
          text += chunk;
          if (text.length >= maxBytes) break;
        }
        return [text.slice(0, maxBytes)];
      }
      for await (const { value } of lines()) {
        const t = lineText(value);
        out.push(t);
        size += t.length;
        if (size >= maxBytes) break;
      }
      return out;
    },
    async tokenize(tokenizer, seqLen, workDir, opts = {}) {
      const writer = new StoreWriter(workDir);
      try {
        if (kind === 'text') {
          const piece = opts.pieceChars ?? PIECE_CHARS;
          let pending = '';
          let tokens = 0;
          const flush = (text: string) => {
            const ids = tokenizer.encode(text, { addSpecialTokens: false });
            writer.tokens(ids);
            tokens += ids.length;
          };
          for await (const chunk of textChunks(file)) {
            pending += chunk;
            while (pending.length >= piece) {
              const cut = cutPoint(pending);
              if (cut <= 0) break;
              flush(pending.slice(0, cut));
              pending = pending.slice(cut);
            }
          }
          if (pending) flush(pending);
          // Blocks of seqLen + 1 tokens at stride seqLen (the last token of one block starts the next).
          const blocks = tokens >= seqLen + 1 ? Math.floor((tokens - 1) / seqLen) : 0;
          if (blocks === 0) {
            throw new DataError(`the text has ${tokens} tokens, fewer than one block of ${seqLen + 1}`, {
              where: file,
              hint: 'lower --seq-len or add text',
            });
          }
          for (let b = 0; b < blocks; b++) writer.index(b * seqLen, seqLen + 1, 1);
        } else {
          const eos = tokenizer.eosId === undefined ? [] : [tokenizer.eosId];
          for await (const { value: l } of lines()) {
            let ex: Example;
            if ('text' in l) {
              ex = {
                ids: [...tokenizer.encode(l.text, { addSpecialTokens: true }), ...eos].slice(0, seqLen + 1),
                start: 1,
              };
            } else {
              const prompt = tokenizer.encode(l.prompt, { addSpecialTokens: true });
              const answer = [...tokenizer.encode(l.answer, { addSpecialTokens: false }), ...eos];
              ex = {
                ids: [...prompt, ...answer].slice(0, Math.max(seqLen + 1, prompt.length + 1)),
                start: Math.max(1, prompt.length),
              };
            }
            writer.example(ex);
          }
          if (writer.count === 0) throw new DataError('the training file has no examples', { where: file });
        }
        return writer.finish();
      } catch (e) {
        writer.abort();
        throw e;
      }
    },
  };
}

/**
 * Where to end the next piece of text: just after the last newline (or, failing that in a very
 * long line, just before the last space) that is followed by a non-space character.
 */
function cutPoint(text: string): number {
  // The characters on both sides must be non-space: whitespace runs are one pre-token.
  for (let i = text.lastIndexOf('\n', text.length - 2); i > 0; i = text.lastIndexOf('\n', i - 1)) {
    if (!/\s/.test(text[i + 1]) && !/\s/.test(text[i - 1])) return i + 1;
  }
  if (text.length < LONG_LINE_CHARS) return 0;
  for (let i = text.lastIndexOf(' ', text.length - 2); i > 0; i = text.lastIndexOf(' ', i - 1)) {
    if (!/\s/.test(text[i + 1]) && !/\s/.test(text[i - 1])) return i;
  }
  return 0;
}

/** Appends token ids and index entries to the two files of a store, through small buffers. */
class StoreWriter {
  count = 0;
  private offset = 0;
  private readonly tokFd: number;
  private readonly idxFd: number;
  private tokBuf = new Int32Array(1 << 16);
  private tokLen = 0;
  private readonly idxBuf = Buffer.alloc(INDEX_BYTES * 4096);
  private idxLen = 0;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.tokFd = openSync(join(dir, 'tokens.i32'), 'w');
    this.idxFd = openSync(join(dir, 'index.bin'), 'w');
  }

  tokens(ids: readonly number[]): void {
    for (const id of ids) {
      if (this.tokLen === this.tokBuf.length) this.flushTokens();
      this.tokBuf[this.tokLen++] = id;
    }
  }

  index(offset: number, length: number, start: number): void {
    if (this.idxLen === this.idxBuf.length) this.flushIndex();
    this.idxBuf.writeDoubleLE(offset, this.idxLen);
    this.idxBuf.writeInt32LE(length, this.idxLen + 8);
    this.idxBuf.writeInt32LE(start, this.idxLen + 12);
    this.idxLen += INDEX_BYTES;
    this.count++;
  }

  example(e: Example): void {
    this.index(this.offset, e.ids.length, e.start);
    this.tokens(e.ids);
    this.offset += e.ids.length;
  }

  private flushTokens(): void {
    const bytes = Buffer.from(this.tokBuf.buffer, 0, this.tokLen * 4);
    for (let w = 0; w < bytes.length; ) w += writeSync(this.tokFd, bytes, w, bytes.length - w);
    this.tokLen = 0;
  }

  private flushIndex(): void {
    for (let w = 0; w < this.idxLen; ) w += writeSync(this.idxFd, this.idxBuf, w, this.idxLen - w);
    this.idxLen = 0;
  }

  finish(): ExampleStore {
    this.flushTokens();
    this.flushIndex();
    closeSync(this.tokFd);
    closeSync(this.idxFd);
    return new ExampleStore(this.dir, this.count);
  }

  abort(): void {
    for (const fd of [this.tokFd, this.idxFd]) {
      try {
        closeSync(fd);
      } catch {}
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Examples on disk, read back one at a time. Close it (or remove its folder) when done. */
export class ExampleStore {
  private readonly tokFd: number;
  private readonly idxFd: number;
  private readonly entry = Buffer.alloc(INDEX_BYTES);

  constructor(
    readonly dir: string,
    readonly length: number,
  ) {
    this.tokFd = openSync(join(dir, 'tokens.i32'), 'r');
    this.idxFd = openSync(join(dir, 'index.bin'), 'r');
  }

  get(i: number): Example {
    readSync(this.idxFd, this.entry, 0, INDEX_BYTES, i * INDEX_BYTES);
    const offset = this.entry.readDoubleLE(0);
    const length = this.entry.readInt32LE(8);
    const start = this.entry.readInt32LE(12);
    const bytes = Buffer.alloc(length * 4);
    readSync(this.tokFd, bytes, 0, bytes.length, offset * 4);
    return { ids: Array.from(new Int32Array(bytes.buffer, bytes.byteOffset, length)), start };
  }

  /** A read-only array view of some examples (for evaluation code that indexes arrays). */
  view(indices: Int32Array): readonly Example[] {
    // A Proxy keeps evaluation's plain-array code unchanged without loading the examples.
    return new Proxy([] as Example[], {
      get: (target, key) => {
        if (key === 'length') return indices.length;
        if (typeof key === 'string' && /^\d+$/.test(key)) return this.get(indices[Number(key)]);
        return Reflect.get(target, key);
      },
    });
  }

  /** Batches over the examples at `indices`, in the order the trainer's exampleSource uses. */
  source(indices: Int32Array, batchSize: number, seed: number, shuffle = true): BatchSource<Batch> {
    let cached: { epoch: number; order: Int32Array } | null = null;
    return {
      batchesPerEpoch: Math.ceil(indices.length / batchSize),
      batch: (epoch, index) => {
        if (cached?.epoch !== epoch) {
          const order = Int32Array.from({ length: indices.length }, (_, i) => i);
          // The same permutation as batching.epochOrder (same generator, same calls).
          if (shuffle) new Rng((seed * 1000003 + epoch) | 0).shuffle(order as unknown as number[]);
          cached = { epoch, order };
        }
        const picked = cached.order.subarray(index * batchSize, (index + 1) * batchSize);
        const rows = Array.from(picked, (j) => this.get(indices[j]));
        const batch = collate(
          rows,
          rows.map((_, j) => j),
        );
        return { ...batch, indices: Array.from(picked) };
      },
    };
  }

  close(): void {
    closeSync(this.tokFd);
    closeSync(this.idxFd);
  }
}

/** The permutation that splits examples into held-out and training sets (seeded). */
export function splitOrder(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  new Rng(seed).shuffle(order as unknown as number[]);
  return order;
}

/** Remove token folders (`<prefix><pid>`) in `dir` left by processes that are gone. */
export function removeStaleWorkDirs(dir: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length));
    if (Number.isInteger(pid) && (pid === process.pid || !processAlive(pid)))
      rmSync(join(dir, n), { recursive: true, force: true });
  }
}
