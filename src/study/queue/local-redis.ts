/**
 * A throw-away Redis server on a loopback port (Debian's redis-server, no persistence), for the
 * queue's tests and its benchmark. Not for production: a real deployment points --queue at its own
 * Redis.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { LetheError } from '../../errors.ts';

export interface LocalRedis {
  url: string;
  stop(): void;
}

export const redisInstalled = (): boolean => spawnSync('redis-server', ['--version']).status === 0;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

export async function startLocalRedis(timeoutMs = 10_000): Promise<LocalRedis> {
  if (!redisInstalled()) {
    throw new LetheError('redis-server is not installed', { hint: 'apt-get install redis-server' });
  }
  const port = await freePort();
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const end = Date.now() + timeoutMs;
  const ping = () =>
    spawnSync('redis-cli', ['-p', String(port), 'ping'])
      .stdout?.toString()
      .trim();
  while (ping() !== 'PONG') {
    if (Date.now() > end || server.exitCode !== null) {
      server.kill('SIGKILL');
      throw new LetheError(`redis-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => server.kill('SIGKILL') };
}
