/**
 * Facts about where and how lethe runs, for `lethe doctor` and bug reports: versions, the active
 * backend (and why js when the native addon is missing), the SIMD kernels the addon chose, the
 * thread count, the memory limit, and the folders data and cache live in.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { backend, nativeBackend, nativeFallbackReason } from '../backend/index.ts';
import { NATIVE_ADDON_PATH } from '../backend/native/native-backend.ts';
import { defaultDataDir } from '../data/resolve-task.ts';
import { availableMemory } from '../models/memory.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The version of this lethe package. */
export const LETHE_VERSION: string = pkg.version;

/** The cache of prepared models and evaluations: LETHE_CACHE_DIR, else .lethe-cache in the current folder. */
export function defaultCacheDir(): string {
  return process.env.LETHE_CACHE_DIR || '.lethe-cache';
}

export interface EnvironmentInfo {
  lethe: string;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  backend: {
    active: string;
    /** LETHE_BACKEND as set ('' when unset: native when the addon loads, else js). */
    requested: string;
    /** Why js is used although native was not refused, or null. */
    fallback: string | null;
    addon: { path: string; present: boolean };
    /** The GEMM micro-kernel and fused-kernel ISA the addon picked (avx512, avx2, generic). */
    simd: { gemm: string; fused: string } | null;
  };
  threads: number;
  cores: number;
  memory: { totalBytes: number; limitBytes: number; limitFrom: 'LETHE_MEMORY_LIMIT' | 'free memory' };
  /** Where built-in specs find their data; null when none applies (installed, no LETHE_DATA_DIR). */
  dataDir: string | null;
  dataDirExists: boolean;
  cacheDir: string;
  cacheDirExists: boolean;
}

interface SimdProbe {
  gemmKernel?: () => string;
  fusedKernel?: () => string;
}

function simd(): EnvironmentInfo['backend']['simd'] {
  try {
    const addon = nativeBackend() as unknown as SimdProbe;
    return { gemm: addon.gemmKernel?.() ?? 'unknown', fused: addon.fusedKernel?.() ?? 'unknown' };
  } catch {
    return null;
  }
}

export function environmentInfo(): EnvironmentInfo {
  const dataDir = defaultDataDir() ?? null;
  const cacheDir = resolve(defaultCacheDir());
  const limit = Number(process.env.LETHE_MEMORY_LIMIT);
  return {
    lethe: LETHE_VERSION,
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    backend: {
      active: backend.name,
      requested: process.env.LETHE_BACKEND ?? '',
      fallback: nativeFallbackReason,
      addon: { path: NATIVE_ADDON_PATH, present: existsSync(NATIVE_ADDON_PATH) },
      simd: existsSync(NATIVE_ADDON_PATH) ? simd() : null,
    },
    threads: backend.getThreads(),
    cores: availableParallelism(),
    memory: {
      totalBytes: totalmem(),
      limitBytes: availableMemory(),
      limitFrom: Number.isFinite(limit) && limit > 0 ? 'LETHE_MEMORY_LIMIT' : 'free memory',
    },
    dataDir,
    dataDirExists: dataDir !== null && existsSync(dataDir),
    cacheDir,
    cacheDirExists: existsSync(cacheDir),
  };
}
