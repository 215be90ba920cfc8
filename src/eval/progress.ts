/**
 * Progress of an evaluation on stderr: a cli-progress bar when stderr is a terminal, else plain
 * lines ("eval: 12/40 (30%) oracle tofu.forget.rouge, ETA 1m 05s"), at most one every few seconds
 * plus the first and the last, so a log file stays readable. Silent when progress is off.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Start the next step (named for the display). */
  tick(what: string): void;
  stop(): void;
}

const SILENT: Progress = { tick() {}, stop() {} };

let barsActive = 0;
/** Whether a terminal progress bar is on screen (other stderr lines would tear it). */
export const progressBarActive = (): boolean => barsActive > 0;

/** Seconds as "1m 05s" / "12s". */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/**
 * Plain progress lines: step i of total, what it is, and the ETA from the mean time per step so
 * far (none before the first step is done). `now` and `write` are injectable for the tests.
 */
export function lineProgress(
  total: number,
  write: (line: string) => void,
  now: () => number = () => performance.now(),
  everyMs = 5000,
): Progress {
  const started = now();
  let done = 0;
  let last = Number.NEGATIVE_INFINITY;
  return {
    tick(what) {
      const t = now();
      if (done > 0 && done < total - 1 && t - last < everyMs) {
        done++;
        return;
      }
      const eta = done === 0 ? '' : `, ETA ${formatEta((((t - started) / done) * (total - done)) / 1000)}`;
      write(`eval: ${done + 1}/${total} (${Math.round((100 * done) / total)}%) ${what}${eta}\n`);
      last = t;
      done++;
    },
    stop() {},
  };
}

export function evalProgress(on: boolean, total: number): Progress {
  if (!on || total === 0) return SILENT;
  if (!process.stderr.isTTY) return lineProgress(total, (l) => process.stderr.write(l));
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'eval [{bar}] {value}/{total} {percentage}% | ETA {eta_formatted} | {what}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { what: '' });
  barsActive++;
  let done = 0;
  return {
    tick(what) {
      bar.update(done++, { what });
    },
    stop() {
      bar.update(total, { what: 'done' });
      bar.stop();
      barsActive--;
    },
  };
}
