/**
 * The js reference backend: readable loops, the oracle every native kernel is tested against and
 * the fallback when the addon is not built. Single-threaded; setThreads is accepted and ignored.
 * Each kernel lives in a small file by concern; this file only assembles them.
 */
import type { Backend } from '../backend.ts';
import { attention, attentionBackward } from './attention.ts';
import { binary, where } from './elementwise.ts';
import { matmul } from './gemm.ts';
import { copyStrided, gather, scatterAdd } from './indexing.ts';
import { crossEntropy, crossEntropyBackward } from './loss.ts';
import { layerNorm, layerNormBackward, rmsNorm, rmsNormBackward } from './norm.ts';
import { adamw } from './optim.ts';
import { logSoftmax, logSoftmaxBackward, reduce, softmax, softmaxBackward, sumSquares } from './reduce.ts';
import { rope } from './rope.ts';
import { affine, unary, unaryBackward } from './unary.ts';

export function createJsBackend(): Backend {
  return {
    name: 'js',
    getThreads: () => 1,
    setThreads: (_n: number) => {},
    empty: (n: number) => new Float32Array(n),
    zeros: (n: number) => new Float32Array(n),
    poolStats: () => ({ live: 0, cached: 0, limit: 0, hits: 0, misses: 0, evictions: 0 }),
    matmul,
    unary,
    unaryBackward,
    affine,
    binary,
    where,
    reduce,
    copyStrided,
    gather,
    scatterAdd,
    softmax,
    softmaxBackward,
    logSoftmax,
    logSoftmaxBackward,
    crossEntropy,
    crossEntropyBackward,
    layerNorm,
    layerNormBackward,
    rmsNorm,
    rmsNormBackward,
    rope,
    attention,
    attentionBackward,
    adamw,
    sumSquares,
  };
}
