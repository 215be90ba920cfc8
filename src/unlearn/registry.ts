/**
 * The method registry: every unlearning method by name, built here once from each method file's
 * explicit list (a duplicate name throws when this module loads). Library code can add its own
 * method with registerMethod; nothing registers itself on import.
 */
import { ConfigError } from '../errors.ts';
import { gaMethods } from './methods/ga.ts';
import { gaKlMethods } from './methods/ga-kl.ts';
import { gradDiffMethods } from './methods/grad-diff.ts';
import { guardrailMethods } from './methods/guardrail.ts';
import { iculMethods } from './methods/icul.ts';
import { influenceMethods } from './methods/influence.ts';
import { npoMethods } from './methods/npo.ts';
import { preferenceMethods } from './methods/preference.ts';
import { randomLabelMethods } from './methods/random-label.ts';
import { rmuMethods } from './methods/rmu.ts';
import { taskVectorMethods } from './methods/task-vector.ts';
import { whpMethods } from './methods/whp.ts';
import type { UnlearnMethod } from './types.ts';

const methods = new Map<string, UnlearnMethod>();

/** Add a method (made by gradientMethod, weightMethod, … in define.ts) under its name. */
export function registerMethod(m: UnlearnMethod): void {
  if (methods.has(m.name)) throw new ConfigError(`unlearning method "${m.name}" is registered twice`);
  methods.set(m.name, m);
}

/** The built-in methods, in the order `lethe methods` lists them. */
const BUILT_IN = [
  ...gaMethods,
  ...gradDiffMethods,
  ...gaKlMethods,
  ...randomLabelMethods,
  ...npoMethods,
  ...preferenceMethods,
  ...rmuMethods,
  ...taskVectorMethods,
  ...whpMethods,
  ...influenceMethods,
  ...iculMethods,
  ...guardrailMethods,
];
for (const m of BUILT_IN) registerMethod(m);

export function getMethod(name: string): UnlearnMethod {
  const m = methods.get(name);
  if (!m) {
    throw new ConfigError(`unknown unlearning method "${name}"`, {
      expected: `one of ${listMethods().join(', ')}`,
    });
  }
  return m;
}

export const listMethods = (): string[] => [...methods.keys()];
export const allMethods = (): UnlearnMethod[] => [...methods.values()];
