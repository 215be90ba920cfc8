/**
 * Training data from files: plain text (.txt, cut into token blocks for pretraining) or JSONL
 * lines of {"text"} (one example each), {"prompt","answer"} (loss on the answer only) or
 * {"question","answer"} (a QA pair asked through the QA prompt format, as tasks are trained).
 */
import { readFileSync } from 'node:fs';
import { type ExampleLine, exampleLineSchema } from '../data/example-lines.ts';
import { DataError } from '../errors.ts';
import { readJsonl } from '../io/jsonl.ts';
import { qaAnswer, qaPrompt } from '../text/format.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { chunkTokens, type Example } from './batching.ts';

const LineSchema = exampleLineSchema(['text', 'prompt', 'question']);
export type TrainLine = { text: string } | { prompt: string; answer: string };

/** A {question, answer} line as the {prompt, answer} it is trained as. */
function asPromptAnswer(l: ExampleLine): TrainLine {
  if ('question' in l) return { prompt: qaPrompt(l.question), answer: qaAnswer(l.answer) };
  return l as TrainLine;
}

export interface TextData {
  /** Raw texts, for tokenizer training. */
  texts: string[];
  toExamples(tokenizer: Tokenizer, seqLen: number): Example[];
}

export async function readTrainingData(file: string): Promise<TextData> {
  if (!file.endsWith('.jsonl')) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file));
    } catch (e) {
      throw new DataError('cannot read training text', {
        where: file,
        found: (e as Error).message,
        expected: 'a UTF-8 text file',
      });
    }
    if (text.trim() === '') throw new DataError('training text is empty', { where: file });
    return {
      texts: [text],
      toExamples: (tok, seqLen) => {
        const ids = tok.encode(text, { addSpecialTokens: false });
        const examples = chunkTokens(ids, seqLen);
        if (examples.length === 0) {
          throw new DataError(`the text has ${ids.length} tokens, fewer than one block of ${seqLen + 1}`, {
            where: file,
            hint: 'lower --seq-len or add text',
          });
        }
        return examples;
      },
    };
  }
  const lines = (await readJsonl(file, { schema: LineSchema })).map(asPromptAnswer);
  return {
    texts: lines.map((l) => ('text' in l ? l.text : `${l.prompt}${l.answer}`)),
    toExamples: (tok, seqLen) =>
      lines.map((l) => {
        const eos = tok.eosId === undefined ? [] : [tok.eosId];
        if ('text' in l)
          return {
            ids: [...tok.encode(l.text, { addSpecialTokens: true }), ...eos].slice(0, seqLen + 1),
            start: 1,
          };
        const prompt = tok.encode(l.prompt, { addSpecialTokens: true });
        const answer = [...tok.encode(l.answer, { addSpecialTokens: false }), ...eos];
        return {
          ids: [...prompt, ...answer].slice(0, Math.max(seqLen + 1, prompt.length + 1)),
          start: Math.max(1, prompt.length),
        };
      }),
  };
}
