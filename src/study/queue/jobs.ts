/**
 * What travels over the job queue between a study's coordinator and its workers: the queue's
 * name, the Redis URL parser, a run's job id and the job's data (validated on both ends). A job
 * names a run of a study whose config, cache and runs folder lie on storage every worker sees;
 * the model hashes let a worker prove it sees the same target and oracle as the coordinator.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';

/** One queue for every study; a job's id carries its study and run, so studies never collide. */
export const QUEUE_NAME = 'lethe-runs';

export interface RedisConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** BullMQ's workers block on Redis; ioredis must not give up on their requests. */
  maxRetriesPerRequest: null;
}

/** `redis://[user:password@]host[:port][/db]` → ioredis options; anything else is a ConfigError. */
export function parseRedisUrl(url: string, flag = '--queue'): RedisConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${flag} is not a URL`, { expected: 'redis://HOST:PORT[/DB]', found: url });
  }
  if (u.protocol !== 'redis:') {
    throw new ConfigError(`${flag} must be a redis:// URL`, {
      expected: 'redis://HOST:PORT[/DB]',
      found: url,
    });
  }
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) {
    throw new ConfigError(`${flag} names a bad Redis database`, {
      expected: 'a non-negative integer after the slash',
      found: url,
    });
  }
  return {
    host: u.hostname || '127.0.0.1',
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    maxRetriesPerRequest: null,
  };
}

export const RunJobSchema = z.strictObject({
  format: z.literal('lethe-run-job/1'),
  study: z.string(),
  /** The study config as the coordinator resolved it, on shared storage (absolute). */
  config: z.string(),
  /** The folder the study's relative paths are resolved against (absolute, shared). */
  baseDir: z.string(),
  run: z.string(),
  seed: z.number().int(),
  label: z.string(),
  models: z.strictObject({
    target: z.strictObject({ dir: z.string(), hash: z.string() }),
    oracle: z.strictObject({ dir: z.string(), hash: z.string() }),
  }),
});
export type RunJob = z.infer<typeof RunJobSchema>;

/** BullMQ forbids ':' in custom ids; study names and run ids never contain it (they name folders). */
export function jobId(study: string, run: string): string {
  return `${study}--${run}`;
}
