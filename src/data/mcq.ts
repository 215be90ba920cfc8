/**
 * WMDP-style multiple-choice files: one `{"question", "choices", "answer"}` record per line (or a
 * JSON array), `answer` either a 0-based index or a choice letter (A-D for four choices, any case).
 * Promises: the result always holds the index; an answer outside the choices, a letter that is not
 * one, fewer than two choices or an unknown key is a DataError naming file, line and field; ids
 * are kept when given and otherwise `<prefix>-<position>`, and must be unique.
 */
import { DataError } from '../errors.ts';
import { indexLetter, type McqItem, McqLine } from './items.ts';
import { readRecords } from './records.ts';

export interface ReadMcqOptions {
  /** Prefix of generated ids (default 'mcq'). */
  idPrefix?: string;
}

/** Read a multiple-choice file into items with index answers. */
export async function readMcq(path: string, options: ReadMcqOptions = {}): Promise<McqItem[]> {
  const prefix = options.idPrefix ?? 'mcq';
  const records = await readRecords(path, McqLine);
  const seen = new Map<string, string>();
  return records.map((r) => {
    const item: McqItem = { id: r.value.id ?? `${prefix}-${r.index}`, ...withoutId(r.value) };
    const before = seen.get(item.id);
    if (before !== undefined) {
      throw new DataError(`duplicate id ${JSON.stringify(item.id)} in ${path}`, {
        where: `${r.where}, field id`,
        expected: 'ids unique within a file',
        found: `the same id at ${before}`,
      });
    }
    seen.set(item.id, r.where);
    return item;
  });
}

function withoutId(v: { question: string; choices: string[]; answer: number }): Omit<McqItem, 'id'> {
  return { question: v.question, choices: v.choices, answer: v.answer };
}

/** The letter of an item's correct choice ('A' for index 0). */
export function answerLetter(item: McqItem): string {
  return indexLetter(item.answer);
}

/**
 * Build an MCQ item from a question, its options and the correct option's text (TOFU's
 * real_authors/world_facts layout). Throws a DataError at `where` unless the answer matches
 * exactly one option.
 */
export function mcqFromOptions(
  id: string,
  question: string,
  options: string[],
  answerText: string,
  where: string,
): McqItem {
  const hits = options.flatMap((o, i) => (o === answerText ? [i] : []));
  if (hits.length !== 1) {
    throw new DataError('multiple-choice answer must equal exactly one option', {
      where: `${where}, field answer`,
      expected: `one of ${JSON.stringify(options)}`,
      found: `${JSON.stringify(answerText)} (${hits.length} matches)`,
    });
  }
  return { id, question, choices: options, answer: hits[0] };
}
