/** Test helper: assert that a promise (or function) fails with a given error class and message parts. */
import assert from 'node:assert/strict';

/** Assert that `promise` rejects with an error of class `type` whose message contains every part. */
export async function rejectsWith(
  promise: Promise<unknown> | (() => unknown),
  type: new (...args: never[]) => Error,
  ...parts: string[]
): Promise<void> {
  const p = typeof promise === 'function' ? Promise.resolve().then(promise) : promise;
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error)?.constructor?.name}: ${err}`);
    for (const part of parts)
      assert.ok(err.message.includes(part), `message lacks "${part}":\n${err.message}`);
    return true;
  });
}
