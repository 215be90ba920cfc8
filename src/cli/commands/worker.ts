/** `lethe worker --queue redis://…`: take study runs from a job queue until stopped (SIGINT/SIGTERM). */
import { type Command, Option } from 'commander';
import { startWorker } from '../../study/queue/worker.ts';
import { intOption } from '../options.ts';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'execute runs of studies started with `lethe bench --queue`; the cache and runs folders must be shared storage at the same paths',
    )
    .requiredOption('--queue <url>', 'the job queue (redis://HOST:PORT[/DB])')
    .option('--name <name>', 'how the coordinator shows this worker (default host:pid)')
    .option('--concurrency <n>', 'runs at once on this machine', intOption('--concurrency', 1), 1)
    .addOption(
      new Option('--lock-ms <ms>', 'job lock duration; a dead worker’s run is retried after it')
        .argParser(intOption('--lock-ms', 1))
        .default(30_000),
    )
    .action(async (f: { queue: string; name?: string; concurrency: number; lockMs: number }) => {
      const worker = await startWorker({
        queue: f.queue,
        name: f.name,
        concurrency: f.concurrency,
        lockMs: f.lockMs,
      });
      await new Promise<void>((stop) => {
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stderr.write(`worker ${worker.name}: stopping\n`);
      await worker.close();
    });
}
