/**
 * Peak memory of `lethe train` on generated text corpora of a given size (the figure behind the
 * README's bounded-data guarantee; the test memory.test.ts uses the same helpers at small sizes).
 *
 *   node --import tsx test/reliability/corpus-rss.ts 500     # MiB of text; prints peak RSS
 *
 * A base model is trained from scratch on a small corpus first; the measured run fine-tunes it
 * for a few steps with checkpoints on the large corpus (tokenizing all of it).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../../src/tensor/rng.ts';

const cli = join(import.meta.dirname, '..', '..', 'bin', 'lethe.js');
const WORDS =
  'the of and a to in is was he for it with as his on be at by had are but from or have an they which one you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(
    ' ',
  );

/** Write `bytes` bytes of seeded pseudo-English lines to `path`. */
export function makeCorpus(path: string, bytes: number, seed = 1): void {
  const rng = new Rng(seed);
  const fd = openSync(path, 'w');
  try {
    let written = 0;
    while (written < bytes) {
      const lines: string[] = [];
      for (let i = 0; i < 2000; i++) {
        const n = rng.int(4, 16);
        lines.push(`${Array.from({ length: n }, () => WORDS[rng.int(0, WORDS.length)]).join(' ')}.`);
      }
      const block = Buffer.from(`${lines.join('\n')}\n`);
      const part = block.subarray(0, Math.min(block.length, bytes - written));
      writeSync(fd, part);
      written += part.length;
    }
  } finally {
    closeSync(fd);
  }
}

/** Run the CLI with `args`; returns its exit status, output and peak RSS in MiB. */
export function lethePeakRss(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-rss-'));
  const hook = join(dir, 'rss-hook.mjs');
  const out = join(dir, 'rss');
  writeFileSync(
    hook,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, cli, ...args], {
    encoding: 'utf8',
    env,
    maxBuffer: 1 << 26,
  });
  let peakMiB = Number.NaN;
  try {
    peakMiB = Number(readFileSync(out, 'utf8')) / 1024;
  } catch {}
  rmSync(dir, { recursive: true, force: true });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, peakMiB };
}

/** Train a tiny base model (from scratch, a small corpus) to fine-tune in measurements. */
export function makeBase(dir: string): string {
  const small = join(dir, 'small.txt');
  makeCorpus(small, 100_000, 7);
  const base = join(dir, 'base');
  const r = lethePeakRss([
    'train',
    '--data',
    small,
    '--out',
    base,
    '--layers',
    '1',
    '--hidden',
    '16',
    '--heads',
    '2',
    '--vocab-size',
    '400',
    '--seq-len',
    '32',
    '--steps',
    '1',
  ]);
  if (r.status !== 0) throw new Error(r.stderr);
  return base;
}

/** Fine-tune `base` for 3 steps (a checkpoint after each) on `corpus`; returns the peak RSS. */
export function fineTunePeak(base: string, corpus: string, out: string) {
  return lethePeakRss([
    'train',
    '--data',
    corpus,
    '--model',
    base,
    '--out',
    out,
    '--steps',
    '3',
    '--seq-len',
    '32',
    '--batch-size',
    '4',
    '--checkpoint-every',
    '1',
  ]);
}

if (process.argv[1] === import.meta.filename) {
  const mib = Number(process.argv[2] ?? 500);
  const dir = mkdtempSync(join(tmpdir(), 'lethe-corpus-'));
  try {
    const base = makeBase(dir);
    const corpus = join(dir, 'corpus.txt');
    makeCorpus(corpus, mib * 1024 * 1024);
    const t0 = performance.now();
    const r = fineTunePeak(base, corpus, join(dir, 'out'));
    if (r.status !== 0) throw new Error(r.stderr);
    const s = ((performance.now() - t0) / 1000).toFixed(0);
    process.stdout.write(`${mib} MiB corpus: peak RSS ${r.peakMiB.toFixed(0)} MiB, ${s} s\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
