/**
 * A command called in a way it refuses (a flag value that names something it will not touch, like
 * a non-empty --out folder without --force): reported like any LetheError, but exit code 2, the
 * usage exit code, as commander's own flag errors.
 */
import { ConfigError } from '../errors.ts';

export class UsageError extends ConfigError {}
