/**
 * The files the serve walkthrough (docs/serve.md) and `npm run bench -- serve` use on the demo
 * target: the policy loads, and the example request is a valid request body holding exactly the
 * personal data synthetic:demo records about its first forget person (his questions about
 * personal data, his biography and his directory entries), so it cannot drift from the benchmark.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveTask } from '../../src/data/resolve-task.ts';
import { requestBodySchema } from '../../src/serve/api-schemas.ts';
import { loadPolicy } from '../../src/serve/policy.ts';

const root = join(import.meta.dirname, '..', '..');
const PII_FACTS = ['birthDate', 'birthTown', 'homeTown', 'address', 'email', 'phone', 'employer'];

test('the demo policy loads and the example request is person-0 of synthetic:demo', async () => {
  const policy = loadPolicy(join(root, 'configs', 'serve-demo-policy.json'));
  assert.equal(policy.method, 'npo-rt');
  const body = requestBodySchema(policy.limits).parse(
    JSON.parse(readFileSync(join(root, 'examples', 'serve', 'request-anselm-gallardo.json'), 'utf8')),
  );
  const task = await resolveTask('synthetic:demo');
  const mine = (id: string) => id.startsWith('person-0-');
  const want = [
    ...task.splits.forget.qa
      .filter((q) => mine(q.id) && PII_FACTS.includes(q.id.slice('person-0-'.length)))
      .map((q) => ({ question: q.question, answer: q.answer })),
    ...task.splits.forget.text.filter((t) => mine(t.id)).map((t) => ({ text: t.text })),
  ];
  assert.equal(want.length, 10);
  assert.deepEqual(body.items, want);
  assert.ok(want.every((it) => JSON.stringify(it).includes(body.subject)));
});
