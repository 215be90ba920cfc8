/**
 * lethe's error types. Every error a user can cause is a LetheError subclass that says what was
 * expected, what was found, where (file, line, key, op, shapes) and, when useful, a hint. The CLI
 * prints `message` and exits non-zero; stack traces only with --debug.
 */

export interface ErrorDetails {
  expected?: string;
  found?: string;
  where?: string;
  hint?: string;
}

function compose(summary: string, d: ErrorDetails): string {
  const parts = [summary];
  if (d.where) parts.push(`  where: ${d.where}`);
  if (d.expected) parts.push(`  expected: ${d.expected}`);
  if (d.found) parts.push(`  found: ${d.found}`);
  if (d.hint) parts.push(`  hint: ${d.hint}`);
  return parts.join('\n');
}

export class LetheError extends Error {
  readonly details: ErrorDetails;
  constructor(summary: string, details: ErrorDetails = {}) {
    super(compose(summary, details));
    this.name = new.target.name;
    this.details = details;
  }
}

/** A tensor op got shapes or dtypes it cannot work with. */
export class ShapeError extends LetheError {}
/** A model folder, safetensors file or checkpoint is missing, truncated or inconsistent. */
export class CheckpointError extends LetheError {}
/** A config file or CLI argument is invalid. */
export class ConfigError extends LetheError {}
/** A dataset file or data line is malformed. */
export class DataError extends LetheError {}
/** Training or unlearning diverged or hit an impossible numeric state. */
export class NumericError extends LetheError {}
/** The native addon is missing or failed to load. */
export class BackendError extends LetheError {}
