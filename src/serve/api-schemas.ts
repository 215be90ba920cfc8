/**
 * The request bodies of the HTTP API as zod schemas (strict: an unknown field is an error). Size
 * limits come from the policy; a value over a limit is reported as 413, any other mismatch as
 * 400, both with the path of the offending field.
 */
import { z } from 'zod';
import type { Policy } from './policy.ts';

export function requestBodySchema(limits: Policy['limits']) {
  const str = z.string().min(1, 'must be a non-empty string').max(limits.maxItemChars);
  const item = z.union([z.strictObject({ text: str }), z.strictObject({ question: str, answer: str })], {
    error: 'must be {"text"} or {"question", "answer"}',
  });
  return z.strictObject({
    subject: z.string().min(1, 'must be a non-empty string').max(500),
    kind: z.enum(['privacy', 'copyright', 'harm']),
    items: z.array(item).min(1, 'must hold at least one item').max(limits.maxItems),
  });
}

export function generateBodySchema(limits: Policy['limits']) {
  return z.strictObject({
    prompt: z.string().min(1, 'must be a non-empty string').max(limits.maxItemChars),
    maxNewTokens: z.number().int().min(1).max(limits.maxNewTokens).optional(),
  });
}

export interface BodyIssue {
  path: string;
  message: string;
}

/** Validate a body: the parsed value, or the HTTP status (400/413) and the issues with their paths. */
export function validateBody<T>(
  schema: z.ZodType<T>,
  body: unknown,
): { ok: true; value: T } | { ok: false; status: 400 | 413; issues: BodyIssue[] } {
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.map((i) => {
    const keys = (i as { keys?: string[] }).keys;
    const path = i.path.map(String).join('.');
    return keys
      ? { path: keys.map((k) => (path ? `${path}.${k}` : k)).join(', '), message: `unknown field` }
      : { path: path || '(body)', message: i.message };
  });
  const tooBig = r.error.issues.some((i) => i.code === 'too_big');
  return { ok: false, status: tooBig ? 413 : 400, issues };
}
