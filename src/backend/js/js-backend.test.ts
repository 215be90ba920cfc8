/** Tests for the assembled js backend object (exact checks). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createJsBackend } from './js-backend.ts';

test('createJsBackend: name js, one thread, setThreads ignored, every kernel a function', () => {
  const b = createJsBackend();
  assert.equal(b.name, 'js');
  assert.equal(b.getThreads(), 1);
  b.setThreads(8);
  assert.equal(b.getThreads(), 1);
  for (const [key, value] of Object.entries(b)) {
    if (key !== 'name') assert.equal(typeof value, 'function', key);
  }
  assert.equal(Object.keys(b).length, 31);
});
