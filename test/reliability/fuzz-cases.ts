/**
 * The fuzz targets of fuzz.test.ts, run in a worker thread so a case that hangs can be stopped:
 * for each case the worker writes a seeded corruption of the original file, announces the case,
 * parses the file, and checks the outcome — a LetheError that names the file, or an object that
 * is self-consistent (tensor sizes match shapes, a model's forward pass gives finite logits of
 * the right shape, token ids round-trip through the vocabulary, a task validates and hashes).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { loadTask, taskHash, validateTask } from '../../src/data/index.ts';
import { LetheError } from '../../src/errors.ts';
import { readJsonl } from '../../src/io/jsonl.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { loadModel } from '../../src/models/load.ts';
import { readStudy } from '../../src/study/study.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { loadTokenizer } from '../../src/text/tokenizer/load.ts';

export interface FuzzJob {
  /** Which parser and consistency check. */
  kind: 'safetensors' | 'model-config' | 'tokenizer' | 'jsonl' | 'task' | 'study';
  /** The file each case corrupts (a copy of the original, in a temp folder). */
  file: string;
  /** What to load: the file itself, or the folder / task.json that names it. */
  load: string;
  cases: number;
  seed: number;
}

export type FuzzMessage =
  | { type: 'start'; index: number }
  | { type: 'done'; index: number; outcome: 'rejected' | 'loaded' }
  | { type: 'fail'; index: number; message: string };

function corrupt(rng: Rng, bytes: Uint8Array): Uint8Array {
  const b = Buffer.from(bytes);
  switch (rng.int(0, 6)) {
    case 0: // flip a few bytes
      for (let i = 0; i < rng.int(1, 8); i++) b[rng.int(0, b.length)] = rng.int(0, 256);
      return b;
    case 1: // truncate
      return b.subarray(0, rng.int(0, b.length));
    case 2: // insert junk, including invalid UTF-8
      return Buffer.concat([
        b.subarray(0, rng.int(0, b.length)),
        Buffer.from([rng.int(0, 256), 0xff, 0xc3]),
        b.subarray(rng.int(0, b.length)),
      ]);
    case 3: {
      // replace a number by an absurd one
      const text = b.toString('latin1');
      const m = [...text.matchAll(/\d+/g)];
      if (m.length === 0) return b;
      const pick = m[rng.int(0, m.length)];
      const huge = ['99999999999999999999', '-1', 'NaN', '1e308', '0', '4294967296', '0.5'][rng.int(0, 7)];
      return Buffer.from(
        text.slice(0, pick.index) + huge + text.slice(pick.index! + pick[0].length),
        'latin1',
      );
    }
    case 4: {
      // swap two spans (structure kept, content moved)
      const i = rng.int(0, b.length);
      const j = rng.int(0, b.length);
      const [lo, hi] = i < j ? [i, j] : [j, i];
      return Buffer.concat([b.subarray(0, lo), b.subarray(hi), b.subarray(lo, hi)]);
    }
    default: // duplicate a span at the end
      return Buffer.concat([b, b.subarray(0, rng.int(0, Math.min(64, b.length)))]);
  }
}

const fail = (msg: string): never => {
  throw new Error(`inconsistent: ${msg}`);
};

/** Parse `job.load` and check the result is self-consistent; throws on any inconsistency. */
async function loadAndCheck(job: FuzzJob): Promise<void> {
  switch (job.kind) {
    case 'safetensors': {
      for (const [name, t] of await readSafetensors(job.load)) {
        const n = t.shape.reduce((a, b) => a * b, 1);
        if (t.data.length !== n) fail(`${name}: ${t.data.length} values for shape [${t.shape}]`);
      }
      return;
    }
    case 'model-config': {
      const { model } = await loadModel(job.load);
      const sizes = model.parameters().reduce((a, p) => a + p.size, 0);
      if (sizes !== model.numParameters()) fail(`numParameters ${model.numParameters()} vs ${sizes}`);
      const ids = new Tensor(new Int32Array([0, 1]), [1, 2]);
      const logits = model.forward(ids).logits!;
      if (logits.shape.join() !== [1, 2, model.vocabSize].join()) fail(`logits shape [${logits.shape}]`);
      if (!logits.f32.every(Number.isFinite)) fail('logits are not finite');
      return;
    }
    case 'tokenizer': {
      const tok = loadTokenizer(job.load);
      const ids = tok.encode('Hello, wörld! 12345 ∑ tabs\tand  spaces\n', { addSpecialTokens: true });
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= tok.vocabSize)
          fail(`id ${id} outside [0, ${tok.vocabSize})`);
        const token = tok.idToToken(id);
        if (token === undefined) fail(`id ${id} has no token`);
        if (tok.tokenToId(token!) !== id) fail(`token ${JSON.stringify(token)} ↔ id ${id}`);
      }
      tok.decode(ids);
      return;
    }
    case 'jsonl': {
      const records = await readJsonl(job.load);
      const lines = readFileSync(job.load, 'latin1').split('\n').length;
      if (records.length > lines) fail(`${records.length} records from ${lines} lines`);
      JSON.stringify(records);
      return;
    }
    case 'task': {
      const task = await loadTask(job.load);
      validateTask(task);
      taskHash(task);
      return;
    }
    case 'study': {
      const study = readStudy(job.load);
      if (typeof study !== 'object' || study === null) fail('not an object');
      JSON.stringify(study);
      return;
    }
  }
}

async function run(job: FuzzJob): Promise<void> {
  const original = readFileSync(job.file);
  const rng = new Rng(job.seed);
  const post = (m: FuzzMessage) => parentPort!.postMessage(m);
  for (let index = 0; index < job.cases; index++) {
    writeFileSync(job.file, corrupt(rng, original));
    post({ type: 'start', index });
    try {
      await loadAndCheck(job);
      post({ type: 'done', index, outcome: 'loaded' });
    } catch (e) {
      const err = e as Error;
      if (!(e instanceof LetheError)) {
        post({ type: 'fail', index, message: `${err?.constructor?.name}: ${err?.message}` });
      } else if (!err.message.includes(job.file) && !err.message.includes(job.load)) {
        post({ type: 'fail', index, message: `the error does not name the file: ${err.message}` });
      } else post({ type: 'done', index, outcome: 'rejected' });
    }
  }
  writeFileSync(job.file, original);
}

if (parentPort && workerData) await run(workerData as FuzzJob);
