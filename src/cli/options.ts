/**
 * Parsing and checking of CLI option values. A bad value is a usage error: commander prints it
 * naming the flag (option '--steps <n>' argument 'many' is invalid. expected …) and lethe exits 2.
 */
import { InvalidArgumentError } from 'commander';

export function intOption(flag: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`${flag} expects an integer >= ${min}`);
    }
    return n;
  };
}

export function numberOption(flag: string, min = -Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min) {
      throw new InvalidArgumentError(`${flag} expects a number >= ${min}`);
    }
    return n;
  };
}

/** Collect a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
