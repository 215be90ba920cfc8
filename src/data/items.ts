/**
 * The item types every benchmark is made of, and the zod schemas for one line of a data file.
 * Promises: each schema is strict (an unknown key is an error), strings that must carry content
 * are non-empty, and the cross-field rules (an MCQ answer inside its choices, a prefix no longer
 * than its token sequence) are checked with the offending field as the issue path, so a loader
 * can name file, line and field. `id` is optional in files; loaders fill it in (see records.ts).
 */
import { z } from 'zod';

/** A question with its answer; the optional fields feed the truth ratio (paraphrase vs perturbed). */
export interface QaItem {
  id: string;
  question: string;
  answer: string;
  paraphrasedQuestion?: string;
  /** A rewording of `answer`; the "correct" option of the truth ratio. */
  paraphrasedAnswer?: string;
  /** Plausible but wrong answers of the same type, worded like `paraphrasedAnswer` when present. */
  perturbedAnswers?: string[];
}

/** A document: trained on whole (no prompt), scored by perplexity or an MIA. */
export interface TextItem {
  id: string;
  text: string;
}

/**
 * A passage split for verbatim memorisation (VerbMem): the model is prompted with `prompt` and its
 * generation compared with `continuation`. For passages lethe generates, `prompt + continuation`
 * is the original text and `continuation` starts with the space that separated the two, so
 * tokenising the halves apart matches tokenising the whole with a byte-level BPE.
 */
export interface VerbatimItem {
  id: string;
  prompt: string;
  continuation: string;
}

/** A multiple-choice question; `answer` is the 0-based index of the correct choice. */
export interface McqItem {
  id: string;
  question: string;
  choices: string[];
  answer: number;
}

/**
 * One personal fact for the privacy (PII extraction) attack: the attack completes each prompt and
 * counts an exact appearance of `value` as a leak. `field` names the kind of fact ('email', ...).
 */
export interface PiiRecord {
  id: string;
  person: string;
  field: string;
  value: string;
  /** Completion prompts whose true continuation is `value`, e.g. "The e-mail address of Ada Brell is". */
  prompts: string[];
}

/**
 * A token-id sequence (already tokenised, e.g. the extraction benchmark's GPT-2 ids). The first
 * `prefixLength` tokens are the prompt a memorisation metric gives the model; the rest is the
 * suffix it should (not) reproduce.
 */
export interface TokenItem {
  id: string;
  tokens: number[];
  prefixLength: number;
}

/** The item kinds a task can hold, by name (used in task files and file names). */
export interface ItemKinds {
  qa: QaItem;
  text: TextItem;
  verbatim: VerbatimItem;
  mcq: McqItem;
  pii: PiiRecord;
  tokens: TokenItem;
}
export type ItemKind = keyof ItemKinds;
export const ITEM_KINDS: readonly ItemKind[] = ['qa', 'text', 'verbatim', 'mcq', 'pii', 'tokens'];

const text = z.string().min(1, 'must be a non-empty string');
const id = z.string().min(1, 'must be a non-empty string').optional();

/** Map a choice letter ('A', 'b', ...) to its index, or -1. */
export function letterIndex(letter: string): number {
  if (!/^[A-Za-z]$/.test(letter)) return -1;
  return letter.toUpperCase().charCodeAt(0) - 65;
}

/** The letter of a choice index: 0 -> 'A'. */
export function indexLetter(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 25)
    throw new RangeError(`no letter for choice ${index}`);
  return String.fromCharCode(65 + index);
}

/**
 * TOFU's own snake_case field names, accepted as aliases of the camelCase ones so a released TOFU
 * file can be named in a task file unchanged. Giving both spellings of one field is an error.
 */
export const QA_ALIASES = {
  paraphrased_question: 'paraphrasedQuestion',
  paraphrased_answer: 'paraphrasedAnswer',
  perturbed_answer: 'perturbedAnswers',
} as const;

const perturbedList = z.array(text).min(1, 'must list at least one perturbed answer');

export const QaLine = z
  .strictObject({
    id,
    question: text,
    answer: text,
    paraphrasedQuestion: text.optional(),
    paraphrasedAnswer: text.optional(),
    perturbedAnswers: perturbedList.optional(),
    paraphrased_question: text.optional().describe('alias of paraphrasedQuestion (TOFU spelling)'),
    paraphrased_answer: text.optional().describe('alias of paraphrasedAnswer (TOFU spelling)'),
    perturbed_answer: perturbedList.optional().describe('alias of perturbedAnswers (TOFU spelling)'),
  })
  .superRefine((v, ctx) => {
    for (const [alias, name] of Object.entries(QA_ALIASES)) {
      if (v[alias as keyof typeof QA_ALIASES] !== undefined && v[name] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [alias],
          message: `give either ${name} or its alias ${alias}, not both`,
        });
      }
    }
  })
  .transform((v) => {
    const out: Omit<QaItem, 'id'> & { id?: string } = { question: v.question, answer: v.answer };
    if (v.id !== undefined) out.id = v.id;
    const pq = v.paraphrasedQuestion ?? v.paraphrased_question;
    const pa = v.paraphrasedAnswer ?? v.paraphrased_answer;
    const pert = v.perturbedAnswers ?? v.perturbed_answer;
    if (pq !== undefined) out.paraphrasedQuestion = pq;
    if (pa !== undefined) out.paraphrasedAnswer = pa;
    if (pert !== undefined) out.perturbedAnswers = pert;
    return out;
  });

const TextObject = z.strictObject({ id, text });
/** A text line is `{"text": ...}` (with an optional id) or a bare JSON string. */
export const TextLine = z.preprocess((v) => (typeof v === 'string' ? { text: v } : v), TextObject);

export const VerbatimLine = z.strictObject({ id, prompt: text, continuation: text });

/**
 * An MCQ line: `answer` is a 0-based index or a choice letter (A, B, ... case-insensitive); the
 * output always carries the index. `subject` (as in MMLU/WMDP dumps) is accepted and dropped.
 */
export const McqLine = z
  .strictObject({
    id,
    question: text,
    choices: z.array(text).min(2, 'must list at least two choices'),
    answer: z.union([z.int().nonnegative(), z.string()]),
    subject: z.string().optional(),
  })
  .superRefine((v, ctx) => {
    const index = typeof v.answer === 'number' ? v.answer : letterIndex(v.answer.trim());
    if (typeof v.answer === 'string' && index < 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['answer'],
        message: `must be a choice index or a letter A-${indexLetter(Math.min(v.choices.length, 26) - 1)}, got ${JSON.stringify(v.answer)}`,
      });
    } else if (index >= v.choices.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['answer'],
        message: `must name one of the ${v.choices.length} choices (index 0-${v.choices.length - 1} or A-${indexLetter(v.choices.length - 1)}), got ${JSON.stringify(v.answer)}`,
      });
    }
  })
  .transform((v) => {
    const out: Omit<McqItem, 'id'> & { id?: string } = {
      question: v.question,
      choices: v.choices,
      answer: typeof v.answer === 'number' ? v.answer : letterIndex(v.answer.trim()),
    };
    if (v.id !== undefined) out.id = v.id;
    return out;
  });

export const PiiLine = z.strictObject({
  id,
  person: text,
  field: text,
  value: text,
  prompts: z.array(text).min(1, 'must list at least one prompt'),
});

export const TokensLine = z
  .strictObject({
    id,
    tokens: z.array(z.int().nonnegative()).min(1, 'must hold at least one token id'),
    prefixLength: z.int().nonnegative(),
  })
  .superRefine((v, ctx) => {
    if (v.prefixLength > v.tokens.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['prefixLength'],
        message: `must be at most the sequence length ${v.tokens.length}, got ${v.prefixLength}`,
      });
    }
  });

/** The line schema of each item kind (input: a parsed JSON line; output: the item without a filled-in id). */
export const LINE_SCHEMAS: { [K in ItemKind]: z.ZodType<Omit<ItemKinds[K], 'id'> & { id?: string }> } = {
  qa: QaLine,
  text: TextLine,
  verbatim: VerbatimLine,
  mcq: McqLine,
  pii: PiiLine,
  tokens: TokensLine,
};
