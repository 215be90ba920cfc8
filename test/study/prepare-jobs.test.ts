/**
 * prepare with jobs = 2 (the target and the oracle trained at once, in two child processes of the
 * process that holds the cache lock), killed: `lethe bench --jobs 2` is SIGKILLed once both
 * children are past their first checkpoint. Both children end with it (they watch their parent);
 * the next prepare resumes each model from its checkpoint, again in two children, and publishes
 * exactly (weights, tokenizer, config, prepare.json without wall times) what an uninterrupted
 * sequential prepare (jobs = 1, in-process) publishes, leaving no partial folder or lock.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadTask, writeTask } from '../../src/data/index.ts';
import { filesUnder } from '../../src/perf/same-results.ts';
import { prepare } from '../../src/study/prepare.ts';
import { tinyTask } from '../helpers/unlearn-world.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lethe-prepare-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const recipe = {
  layers: 1,
  hidden: 32,
  heads: 2,
  vocabSize: 300,
  context: 64,
  steps: 600,
  batchSize: 4,
  lr: 0.01,
};
const lines = (path: string) =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;

/** Running processes (not zombies) whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (cmd.includes(text) && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') out.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

test('prepare with two training children: kill -9, resume, same bytes as a sequential prepare', async () => {
  const taskFile = await writeTask(join(dir, 'task'), tinyTask());
  const task = await loadTask(taskFile);
  const baseline = await prepare({ task, recipe, seed: 0, cacheDir: join(dir, 'seq'), progress: false });

  const cache = join(dir, 'jobs');
  const config = join(dir, 'study.json');
  writeFileSync(
    config,
    JSON.stringify({
      name: 'kill',
      task: taskFile,
      recipe,
      suites: ['tofu'],
      methods: [{ method: 'icul' }],
      cache,
      out: join(dir, 'runs'),
    }),
  );
  const work = join(cache, 'models', `${baseline.key}.partial`);
  const bench = spawn(
    process.execPath,
    [join(root, 'bin', 'lethe.js'), 'bench', '--config', config, '--jobs', '2'],
    {
      cwd: dir,
      env: { ...process.env, LETHE_THREADS: '1' },
      stdio: 'ignore',
    },
  );
  let children: number[] = [];
  const killed = new Promise<boolean>((resolve) =>
    bench.on('exit', (_c, signal) => resolve(signal === 'SIGKILL')),
  );
  const timer = setInterval(() => {
    // Both models past their first checkpoint (every 100 steps), neither finished.
    if (['target', 'oracle'].every((m) => lines(join(work, m, 'train-log.jsonl')) >= 110)) {
      children = processesMentioning(work);
      bench.kill('SIGKILL');
    }
  }, 20);
  assert.ok(await killed, 'the bench was killed while both models trained');
  clearInterval(timer);
  assert.equal(children.length, 2, 'two training children were running');
  const deadline = Date.now() + 5000;
  while (processesMentioning(work).length > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(processesMentioning(work), [], 'the training children died with their parent');
  const reached = ['target', 'oracle'].map((m) => lines(join(work, m, 'train-log.jsonl')));
  assert.ok(
    reached.every((n) => n < recipe.steps),
    `stopped mid-training (${reached})`,
  );
  assert.ok(!existsSync(join(work, 'target.json')) && !existsSync(join(work, 'oracle.json')));

  const resumed = await prepare({
    task,
    recipe,
    seed: 0,
    cacheDir: cache,
    progress: false,
    jobs: 2,
    threads: 1,
    cwd: dir,
  });
  assert.equal(resumed.key, baseline.key);
  const files = filesUnder(baseline.dir);
  assert.deepEqual(filesUnder(resumed.dir), files);
  for (const f of files) {
    const [x, y] = [join(baseline.dir, f), join(resumed.dir, f)];
    if (f.endsWith('.jsonl')) {
      const text = (p: string) =>
        readFileSync(p, 'utf8')
          .split('\n')
          .map((l) => (l ? withoutSeconds(l) : l))
          .join('\n');
      assert.equal(text(y), text(x), f);
    } else if (f.endsWith('.json')) {
      assert.equal(withoutSeconds(readFileSync(y, 'utf8')), withoutSeconds(readFileSync(x, 'utf8')), f);
    } else assert.deepEqual(readFileSync(y), readFileSync(x), f);
  }
  assert.deepEqual(
    readdirSync(join(cache, 'models')).filter((n) => /\.(partial|lock)$/.test(n)),
    [],
    'no partial folder or lock is left',
  );
});

function withoutSeconds(json: string): string {
  return JSON.stringify(JSON.parse(json), (k, v) => (k === 'seconds' ? undefined : v));
}
