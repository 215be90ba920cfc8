/** Missing outside resources skip on a developer machine but fail under CI=true / LETHE_REQUIRE_SHARED=1. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { skipUnlessPresent } from './must-run.ts';

test('a missing shared file skips locally and fails in CI', () => {
  const saved = { ci: process.env.CI, req: process.env.LETHE_REQUIRE_SHARED };
  try {
    delete process.env.CI;
    delete process.env.LETHE_REQUIRE_SHARED;
    assert.equal(skipUnlessPresent('x', [import.meta.filename], 'hint'), false);
    assert.match(
      String(skipUnlessPresent('shared dataset', ['/nonexistent/lethe'], 'hint')),
      /not found: \/nonexistent/,
    );
    for (const [k, v] of [
      ['CI', 'true'],
      ['LETHE_REQUIRE_SHARED', '1'],
    ]) {
      process.env[k] = v;
      assert.throws(
        () => skipUnlessPresent('shared dataset', ['/nonexistent/lethe'], 'hint'),
        /forbids skipping/,
      );
      delete process.env[k];
    }
  } finally {
    if (saved.ci === undefined) delete process.env.CI;
    else process.env.CI = saved.ci;
    if (saved.req === undefined) delete process.env.LETHE_REQUIRE_SHARED;
    else process.env.LETHE_REQUIRE_SHARED = saved.req;
  }
});
