/**
 * Whether two study folders (each holding a study's `cache` and `runs`, as `npm run bench -- study`
 * and test/study/jobs.test.ts lay them out) hold the same results: the same files, the same weights
 * byte for byte, and the same JSON once wall-clock and memory cells (and an unlearning manifest's
 * thread count) are set aside and each side's folder name is normalised. Used to show that `jobs` changes only the schedule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Keys whose values are wall-clock times or peak memory. */
export const CLOCK_KEYS: ReadonlySet<string> = new Set([
  'wallTime',
  'timings',
  'seconds',
  'time',
  'searchSeconds',
  'withSearch',
  'efficiency.seconds',
  'efficiency.peakMemoryMb',
]);

/** A JSON text without clock cells (at any depth), and without the keys in `also`. */
export function withoutClock(text: string, also: readonly string[] = []): string {
  return JSON.stringify(JSON.parse(text), (k, v) => (CLOCK_KEYS.has(k) || also.includes(k) ? undefined : v));
}

/** Every file under `path`, relative, sorted. */
export function filesUnder(path: string, prefix = ''): string[] {
  return readdirSync(path, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? filesUnder(join(path, e.name), join(prefix, e.name)) : [join(prefix, e.name)],
    )
    .sort();
}

/** Where two texts part, with some context on each side (not both whole files). */
function parting(a: string, b: string): string {
  let i = 0;
  while (a[i] === b[i]) i++;
  const near = (x: string) => x.slice(Math.max(0, i - 150), i + 150);
  return `at character ${i}:\n  first:  …${near(a)}…\n  second: …${near(b)}…`;
}

/** A JSON or JSONL file's text without clock cells, its study folder's path made `<root>`. */
function comparable(path: string, root: string): string {
  const text = readFileSync(path, 'utf8');
  const clean = path.endsWith('.jsonl')
    ? text
        .split('\n')
        .map((line) => (line.trim() ? withoutClock(line) : line))
        .join('\n')
    : // An unlearning child's manifest records the native threads it had: ⌊cores ÷ jobs⌋.
      withoutClock(text, path.endsWith('manifest.json') ? ['threads'] : []);
  // Summaries name folders relative to the study's working directory (e.g. ../runs-a/cache), so
  // that form of the root is the study folder too, wherever the checkout lies.
  const shown = relative(process.cwd(), root);
  const rooted = clean.replaceAll(root, '<root>');
  return shown && shown !== root ? rooted.replaceAll(shown, '<root>') : rooted;
}

/**
 * What differs between two study folders (empty: the same results). Reports (.md, .html) are
 * left out: they print wall times.
 */
export function studyDifferences(a: string, b: string): string[] {
  const out: string[] = [];
  const [fa, fb] = [filesUnder(a), filesUnder(b)];
  const onlyA = fa.filter((f) => !fb.includes(f));
  const onlyB = fb.filter((f) => !fa.includes(f));
  if (onlyA.length > 0) out.push(`only in the first: ${onlyA.join(', ')}`);
  if (onlyB.length > 0) out.push(`only in the second: ${onlyB.join(', ')}`);
  for (const f of fa.filter((x) => fb.includes(x) && !/\.(md|html)$/.test(x))) {
    if (/\.jsonl?$/.test(f)) {
      const [x, y] = [comparable(join(a, f), a), comparable(join(b, f), b)];
      if (x !== y) out.push(`${f} differs ${parting(x, y)}`);
    } else {
      const [x, y] = [readFileSync(join(a, f)), readFileSync(join(b, f))];
      if (!x.equals(y)) out.push(`${f} differs (${x.length} and ${y.length} bytes)`);
    }
  }
  return out;
}
