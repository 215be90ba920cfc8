/**
 * Engine benchmark: native GEMM throughput (GFLOPS = 2·m·n·k / time) for the shapes a transformer
 * step uses, in the NN, NT and TN forms (forward, and the two backward products), on 1 thread and
 * on every core. Each point is warmed up, then repeated until at least MIN_SECONDS have passed
 * (and at least MIN_REPS times); the reported `gflops` is from the median time, `gflopsBest` from
 * the fastest. Prints one JSON object to stdout; progress lines go to stderr.
 */
import { availableParallelism, cpus } from 'node:os';
import type { Backend } from '../backend/backend.ts';
import { loadNativeBackend } from '../backend/native/native-backend.ts';

const MIN_SECONDS = 0.3;
const MIN_REPS = 3;
const WARMUP_SECONDS = 0.05;

type Form = 'NN' | 'NT' | 'TN';
const FORMS: Form[] = ['NN', 'NT', 'TN'];

/** m×k times k×n. */
const SHAPES: { m: number; n: number; k: number }[] = [
  { m: 256, n: 256, k: 256 },
  { m: 1024, n: 1024, k: 1024 },
  { m: 2048, n: 2048, k: 2048 },
  { m: 1024, n: 3072, k: 768 },
  { m: 1024, n: 768, k: 768 },
];

export interface GemmPoint {
  m: number;
  n: number;
  k: number;
  form: Form;
  threads: number;
  gflops: number;
  gflopsBest: number;
  reps: number;
}

function randomArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

function timeGemm(
  be: Backend,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  shape: { m: number; n: number; k: number },
  form: Form,
): { median: number; best: number; reps: number } {
  const { m, n, k } = shape;
  const call = () => be.matmul(a, b, c, 1, m, n, k, form === 'TN', form === 'NT', 0, 0, 0, false);
  const warmStart = performance.now();
  do call();
  while (performance.now() - warmStart < WARMUP_SECONDS * 1000);
  const times: number[] = [];
  const start = performance.now();
  while (times.length < MIN_REPS || performance.now() - start < MIN_SECONDS * 1000) {
    const t0 = performance.now();
    call();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((x, y) => x - y);
  return { median: times[Math.floor(times.length / 2)], best: times[0], reps: times.length };
}

export async function run(_args: string[]): Promise<void> {
  const be = loadNativeBackend() as Backend & { gemmKernel(): string };
  const cores = availableParallelism();
  const threadCounts = cores > 1 ? [1, cores] : [1];
  const previousThreads = be.getThreads();
  const gemm: GemmPoint[] = [];
  for (const shape of SHAPES) {
    const { m, n, k } = shape;
    const a = randomArray(m * k, 1);
    const b = randomArray(k * n, 2);
    const c = new Float32Array(m * n);
    for (const threads of threadCounts) {
      be.setThreads(threads);
      for (const form of FORMS) {
        const t = timeGemm(be, a, b, c, shape, form);
        const flop = 2 * m * n * k;
        const point: GemmPoint = {
          m,
          n,
          k,
          form,
          threads,
          gflops: Math.round((flop / t.median / 1e9) * 10) / 10,
          gflopsBest: Math.round((flop / t.best / 1e9) * 10) / 10,
          reps: t.reps,
        };
        gemm.push(point);
        console.error(
          `engine: gemm m=${m} n=${n} k=${k} ${form} threads=${threads}: ${point.gflops} GFLOPS (median of ${t.reps}, best ${point.gflopsBest})`,
        );
      }
    }
  }
  be.setThreads(previousThreads);
  const result = {
    suite: 'engine',
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores, node: process.version },
    kernel: be.gemmKernel(),
    method: `GFLOPS = 2mnk/time; gflops from the median, gflopsBest from the fastest of >= ${MIN_REPS} repeats lasting >= ${MIN_SECONDS} s in all, after ${WARMUP_SECONDS} s of warm-up`,
    gemm,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
