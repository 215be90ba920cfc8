/**
 * Skipping tests that need something outside the repository (../shared/datasets, Chromium) is
 * allowed on a developer's machine, never in CI: with CI=true or LETHE_REQUIRE_SHARED=1 a missing
 * resource makes the test file fail instead of skip, so a CI run cannot pass with them skipped.
 */
import { existsSync } from 'node:fs';

/** True where skips for missing outside resources must fail instead. */
export function skipsForbidden(): boolean {
  return process.env.CI === 'true' || process.env.LETHE_REQUIRE_SHARED === '1';
}

/**
 * `false` when every path exists; otherwise the reason to skip (printed on stderr), or a thrown
 * error where skipping is forbidden.
 */
export function skipUnlessPresent(what: string, paths: string[], hint: string): false | string {
  const missing = paths.find((p) => !existsSync(p));
  if (missing === undefined) return false;
  const reason = `${what} not found: ${missing} (${hint})`;
  if (skipsForbidden()) throw new Error(`${reason}; CI=true or LETHE_REQUIRE_SHARED=1 forbids skipping`);
  process.stderr.write(`skipped: ${reason}\n`);
  return reason;
}
