/**
 * `lethe bench --config study.json --queue redis://…`: the coordinator of a study run by workers
 * on any number of machines. It validates the study and prepares target and oracle (once, under
 * the cache lock, exactly as the local runner), writes the resolved study beside its runs, puts
 * every run that has no results yet on the queue, shows progress per worker, and when all runs are
 * in, assembles summary and report with the local runner (which reuses every finished run).
 *
 * Re-attaching: job ids are derived from the study and the run id, and BullMQ ignores an add for an
 * id it holds, so a restarted coordinator re-plans, finds the queued, running and finished jobs it
 * left, and waits for them. Nothing is enqueued twice.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Job, Queue } from 'bullmq';
import { LetheError } from '../../errors.ts';
import { writeJsonAtomic } from '../../io/atomic.ts';
import { prepare, preparedHashes } from '../prepare.ts';
import {
  type CheckedStudy,
  checkStudy,
  completeStudyRuns,
  runStudy,
  type Study,
  type StudyResult,
} from '../study.ts';
import { jobId, parseRedisUrl, QUEUE_NAME, type RunJob } from './jobs.ts';

export interface QueueStudyOptions {
  queue: string;
  baseDir?: string;
  progress?: boolean;
  /** Put runs that failed in an earlier attempt of this study back on the queue. */
  retryFailed?: boolean;
  /** How often to poll the queue for progress (ms). */
  pollMs?: number;
}

type State = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'prioritized' | 'unknown';

/** Counts per state and, for active and finished runs, per worker: the progress line. */
function progressLine(states: { state: State; worker?: string }[]): string {
  const count = (s: State[]) => states.filter((x) => s.includes(x.state)).length;
  const byWorker = (s: State) => {
    const m = new Map<string, number>();
    for (const x of states) if (x.state === s) m.set(x.worker ?? '?', (m.get(x.worker ?? '?') ?? 0) + 1);
    return m.size ? ` (${[...m].map(([w, n]) => `${w}: ${n}`).join(', ')})` : '';
  };
  return [
    `${count(['waiting', 'delayed', 'prioritized', 'unknown'])} queued`,
    `${count(['active'])} active${byWorker('active')}`,
    `${count(['completed'])} done${byWorker('completed')}`,
    `${count(['failed'])} failed`,
  ].join(', ');
}

export async function runStudyOnQueue(
  input: Study | CheckedStudy,
  o: QueueStudyOptions,
): Promise<StudyResult> {
  const checked = 'runs' in input ? input : await checkStudy(input);
  const { study, task, recipe } = checked;
  const base = resolve(o.baseDir ?? process.cwd());
  const say = (m: string) => o.progress !== false && process.stderr.write(`bench: ${m}\n`);
  const connection = parseRedisUrl(o.queue);
  const plan = checked.runs;
  const dir = resolve(base, study.out, study.name);
  await mkdir(join(dir, 'runs'), { recursive: true });
  // Workers read this copy: the same study, with its folders made absolute for every machine.
  const config = join(dir, 'study.queue.json');
  await writeJsonAtomic(config, {
    ...study,
    cache: resolve(base, study.cache),
    out: resolve(base, study.out),
  });
  const queue = new Queue(QUEUE_NAME, { connection });
  try {
    await queue.waitUntilReady().catch((e: Error) => {
      throw new LetheError(`cannot reach the job queue at ${o.queue}`, { found: e.message });
    });
    // Target and oracle of every seed, prepared and evaluated here, once: workers only reuse them.
    await completeStudyRuns(checked, [], { progress: o.progress, baseDir: base });
    const entries: { id: string; run: string }[] = [];
    for (const seed of study.seeds) {
      const p = await prepare({ task, recipe, seed, cacheDir: resolve(base, study.cache), progress: false });
      const hashes = preparedHashes(p);
      const models = {
        target: { dir: p.target, hash: hashes.target },
        oracle: { dir: p.oracle, hash: hashes.oracle },
      };
      for (const run of plan.filter((r) => r.seed === seed)) {
        const id = jobId(study.name, run.id);
        entries.push({ id, run: run.id });
        if (existsSync(join(dir, 'runs', run.id, 'results.json'))) continue;
        const old = await queue.getJob(id);
        const state = old ? await old.getState() : null;
        if (old && (state === 'completed' || (state === 'failed' && o.retryFailed))) {
          // Finished without results here (folder removed) or retried on request: run it anew.
          await old.remove();
        } else if (old) continue; // queued, running, or failed (reported below)
        const data: RunJob = {
          format: 'lethe-run-job/1',
          study: study.name,
          config,
          baseDir: base,
          run: run.id,
          seed,
          label: run.label,
          models,
        };
        await queue.add('run', data, {
          jobId: id,
          // Interruptions (a worker shut down) are retried; a run that fails by itself is not.
          attempts: 3,
          removeOnComplete: false,
          removeOnFail: false,
        });
      }
    }
    say(
      `${entries.length} runs on ${o.queue} (queue ${QUEUE_NAME}); start workers with: lethe worker --queue ${o.queue}`,
    );
    let last = '';
    for (;;) {
      const jobs = await Promise.all(entries.map((e) => queue.getJob(e.id)));
      const states = await Promise.all(
        jobs.map(async (j, i) => {
          if (!j) {
            const done = existsSync(join(dir, 'runs', entries[i].run, 'results.json'));
            return { state: (done ? 'completed' : 'unknown') as State };
          }
          return { state: (await j.getState()) as State, worker: j.processedBy };
        }),
      );
      const line = progressLine(states);
      if (line !== last) say(line);
      last = line;
      if (states.every((s) => s.state === 'completed' || s.state === 'failed')) {
        const failed = jobs.filter((j, i): j is Job => !!j && states[i].state === 'failed');
        if (failed.length) {
          throw new LetheError(`${failed.length} of ${entries.length} runs failed`, {
            found: failed.map((j) => `${j.data.run}: ${j.failedReason}`).join('\n'),
            hint: 'fix the cause and rerun with --retry-failed; finished runs are kept',
          });
        }
        break;
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
    }
  } finally {
    await queue.close();
  }
  say('all runs done; assembling the summary');
  return runStudy(checked, { progress: o.progress, baseDir: base });
}
