/** The method registry: every unlearning method by name; a duplicate name is an error at load. */
import { ConfigError } from '../errors.ts';
import type { UnlearnMethod } from './types.ts';

const methods = new Map<string, UnlearnMethod<never>>();

export function registerMethod<A>(m: UnlearnMethod<A>): void {
  if (methods.has(m.name)) throw new ConfigError(`unlearning method "${m.name}" is registered twice`);
  methods.set(m.name, m as unknown as UnlearnMethod<never>);
}

export function getMethod(name: string): UnlearnMethod<Record<string, unknown>> {
  const m = methods.get(name);
  if (!m) {
    throw new ConfigError(`unknown unlearning method "${name}"`, {
      expected: `one of ${listMethods().join(', ')}`,
    });
  }
  return m as unknown as UnlearnMethod<Record<string, unknown>>;
}

export const listMethods = (): string[] => [...methods.keys()];
export const allMethods = (): UnlearnMethod<Record<string, unknown>>[] =>
  [...methods.values()] as unknown as UnlearnMethod<Record<string, unknown>>[];
