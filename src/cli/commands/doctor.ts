/** `lethe doctor`: versions, backend, SIMD kernels, threads, memory, and where data and cache live. */
import type { Command } from 'commander';
import { environmentInfo } from '../../api/environment.ts';

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('show the versions, backend, SIMD kernels, threads and the data and cache folders in use')
    .option('--json', 'print one JSON object instead of text')
    .action((f: { json?: boolean }) => {
      const e = environmentInfo();
      if (f.json) {
        process.stdout.write(`${JSON.stringify(e)}\n`);
        return;
      }
      const b = e.backend;
      const why = b.fallback
        ? ` (fallback: ${b.fallback})`
        : b.requested
          ? ` (LETHE_BACKEND=${b.requested})`
          : '';
      const lines = [
        `lethe    ${e.lethe}`,
        `node     ${e.node} (v8 ${e.v8}), ${e.platform}-${e.arch}`,
        `backend  ${b.active}${why}`,
        `addon    ${b.addon.path}${b.addon.present ? '' : ' (not built: `npm rebuild lethe` builds it; npm 11 runs install scripts only after `npm install-scripts approve lethe`)'}`,
        `simd     ${b.simd ? `gemm ${b.simd.gemm}, fused ${b.simd.fused}` : 'n/a (no native addon)'}`,
        `threads  ${e.threads} of ${e.cores} cores${process.env.LETHE_THREADS ? ' (LETHE_THREADS)' : ''}`,
        `memory   ${gib(e.memory.limitBytes)} usable of ${gib(e.memory.totalBytes)} (${e.memory.limitFrom})`,
        `data     ${e.dataDir ?? '(none: set LETHE_DATA_DIR or --data-dir)'}${e.dataDirExists ? '' : ' (missing; only synthetic tasks work)'}${process.env.LETHE_DATA_DIR ? ' (LETHE_DATA_DIR)' : ''}`,
        `cache    ${e.cacheDir}${e.cacheDirExists ? '' : ' (not created yet)'}${process.env.LETHE_CACHE_DIR ? ' (LETHE_CACHE_DIR)' : ''}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
