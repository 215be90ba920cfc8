/**
 * The lines `lethe train` and `lethe score` read from a JSONL file, one shape per line:
 *   {"text"}                 a document (loss on every token after the first)
 *   {"prompt", "answer"}     a raw prompt and its continuation (loss on the answer only)
 *   {"question", "answer"}   a QA pair, asked through the QA prompt format (src/text/template.ts),
 *                            exactly as task files' QA items are trained and scored
 *   {"input_ids"}            token ids (score only)
 * Promises: the shape is chosen by its key (text / prompt / question / input_ids), then checked
 * strictly, so a mismatch names the line's field or lists the accepted shapes and the keys found,
 * instead of zod's bare "Invalid input" for a failed union.
 */
import { z } from 'zod';

export type ExampleLine =
  | { text: string }
  | { prompt: string; answer: string }
  | { question: string; answer: string }
  | { input_ids: number[] };

type ShapeKey = 'text' | 'prompt' | 'question' | 'input_ids';

const SHAPES: Record<ShapeKey, { schema: z.ZodType<ExampleLine>; label: string }> = {
  text: { schema: z.strictObject({ text: z.string() }), label: '{"text"}' },
  prompt: {
    schema: z.strictObject({ prompt: z.string(), answer: z.string() }),
    label: '{"prompt","answer"}',
  },
  question: {
    schema: z.strictObject({ question: z.string(), answer: z.string() }),
    label: '{"question","answer"}',
  },
  input_ids: {
    schema: z.strictObject({ input_ids: z.array(z.int().nonnegative()) }),
    label: '{"input_ids":[...]}',
  },
};

/** A schema accepting the given shapes, dispatched on their key (see the header). */
export function exampleLineSchema(allowed: readonly ShapeKey[]): z.ZodType<ExampleLine> {
  const labels = allowed.map((k) => SHAPES[k].label).join(', ');
  return z.unknown().transform((raw, ctx): ExampleLine => {
    const keys = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? Object.keys(raw) : null;
    const key = keys ? allowed.find((k) => keys.includes(k)) : undefined;
    if (key === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `one of ${labels} per line; found ${keys ? `keys ${JSON.stringify(keys)}` : Array.isArray(raw) ? 'an array' : typeof raw}`,
      });
      return z.NEVER;
    }
    const result = SHAPES[key].schema.safeParse(raw);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
      ctx.addIssue({
        code: 'custom',
        path: unknownKey === undefined ? issue.path : [...issue.path, unknownKey],
        message:
          unknownKey === undefined
            ? `${issue.message} (a ${SHAPES[key].label} line)`
            : `only the keys of ${SHAPES[key].label} (unknown key ${JSON.stringify(unknownKey)})`,
      });
    }
    return z.NEVER;
  });
}
