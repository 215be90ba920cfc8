/** Parsing and checking of CLI option values, with errors that name the flag. */
import { ConfigError } from '../errors.ts';

export function intOption(flag: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new ConfigError(`invalid value for ${flag}`, { expected: `an integer >= ${min}`, found: value });
    }
    return n;
  };
}

export function numberOption(flag: string, min = -Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) {
      throw new ConfigError(`invalid value for ${flag}`, { expected: `a number >= ${min}`, found: value });
    }
    return n;
  };
}

/** Collect a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
