/**
 * Config fields that transformers has renamed or moved between versions, read from wherever a
 * given config.json keeps them, so files written by old and new versions load alike:
 *   - rotary base and fraction: `rotary_emb_base`/`rotary_pct` (GPT-NeoX, transformers ≤ 4.4x),
 *     `rope_theta`/`partial_rotary_factor` (4.4x–4.5x), `rope_parameters.{rope_theta,
 *     partial_rotary_factor}` (5.x);
 *   - `rope_scaling` / `rope_parameters.rope_type`: only plain RoPE ("default", or none) is
 *     implemented; any scaled variant (linear, dynamic, yarn, llama3, …) is refused by name rather
 *     than silently computed as plain RoPE;
 *   - `torch_dtype` (≤ 4.5x) and `dtype` (newer): informational, but two that disagree are refused.
 * Each model's schema names its canonical field; aliases fill it when it is absent, and two
 * places that disagree are a config error naming both.
 */
import { z } from 'zod';

export interface AliasRule {
  /** The field the model reads. */
  field: string;
  /** Other top-level names for the same value, oldest first. */
  aliases?: string[];
  /** Key inside `rope_parameters` (transformers 5) holding the value. */
  ropeParameter?: string;
  /** Copy an alias's value into `field` when it is absent (default true; false: only check). */
  fill?: boolean;
}

type Issue = { code: 'custom'; message: string; path: string[] };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Only un-scaled RoPE is implemented; return a complaint for anything else. */
function ropeTypeProblem(raw: Record<string, unknown>): Issue | null {
  for (const key of ['rope_scaling', 'rope_parameters']) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (!isObject(v)) return { code: 'custom', message: `expected an object or null`, path: [key] };
    const type = v.rope_type ?? v.type ?? 'default';
    if (type !== 'default') {
      return {
        code: 'custom',
        message: `RoPE scaling ${JSON.stringify(type)} is not implemented (only plain RoPE, rope_type "default")`,
        path: [key],
      };
    }
  }
  return null;
}

/** Fill canonical fields from their aliases; flag contradictions and unsupported RoPE scaling. */
export function normaliseAliases(
  raw: unknown,
  rules: readonly AliasRule[],
  addIssue: (issue: Issue) => void,
): unknown {
  if (!isObject(raw)) return raw;
  const out: Record<string, unknown> = { ...raw };
  const ropeProblem = ropeTypeProblem(raw);
  if (ropeProblem) addIssue(ropeProblem);
  const rp = isObject(raw.rope_parameters) ? raw.rope_parameters : {};
  // The dtype names are only checked: a config keeps the spelling its transformers version used.
  for (const rule of [...rules, { field: 'torch_dtype', aliases: ['dtype'], fill: false }]) {
    const found: [string, unknown][] = [];
    for (const name of [rule.field, ...(rule.aliases ?? [])]) {
      if (raw[name] !== undefined && raw[name] !== null) found.push([name, raw[name]]);
    }
    if (rule.ropeParameter && rp[rule.ropeParameter] !== undefined && rp[rule.ropeParameter] !== null) {
      found.push([`rope_parameters.${rule.ropeParameter}`, rp[rule.ropeParameter]]);
    }
    const clash = found.find(([, v]) => v !== found[0][1]);
    if (clash) {
      addIssue({
        code: 'custom',
        message: `${found[0][0]} = ${JSON.stringify(found[0][1])} contradicts ${clash[0]} = ${JSON.stringify(clash[1])}`,
        path: [rule.field],
      });
    }
    if (found.length > 0 && out[rule.field] === undefined && rule.fill !== false)
      out[rule.field] = found[0][1];
  }
  return out;
}

/** Wrap a model's config schema so that aliases are resolved before it validates. */
export function withAliases<S extends z.ZodType>(rules: readonly AliasRule[], schema: S) {
  return z.preprocess((raw, ctx) => normaliseAliases(raw, rules, (i) => ctx.addIssue(i)), schema);
}
