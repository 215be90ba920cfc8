/**
 * Progress for long work: one line per report on stderr (rewritten in place on a TTY, plain
 * lines otherwise, at most every few seconds), and an append-only JSONL metric log that, on
 * resume, drops entries past the resumed step so the log matches the weights.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const fmtNum = (x: number): string =>
  !Number.isFinite(x)
    ? String(x)
    : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0)
      ? x.toExponential(2)
      : x.toFixed(4);

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private readonly start = performance.now();
  private last = 0;
  private tokens = 0;
  private pendingLine = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly enabled: boolean,
  ) {}

  update(step: number, values: { loss: number; lr: number; [k: string]: number }): void {
    this.tokens += values.tokens ?? 0;
    if (!this.enabled) return;
    const now = performance.now();
    const interval = this.tty ? 200 : 5000;
    if (now - this.last < interval && step !== this.total && step !== 1) return;
    this.last = now;
    const elapsed = (now - this.start) / 1000;
    const eta = (elapsed / step) * (this.total - step);
    const extras = Object.entries(values)
      .filter(([k]) => !['step', 'loss', 'lr', 'tokens', 'seconds'].includes(k))
      .map(([k, v]) => `${k} ${fmtNum(v)}`)
      .join(' ');
    const line = `${this.label}: step ${step}/${this.total} loss ${fmtNum(values.loss)} lr ${values.lr.toExponential(2)} ${extras} | ${Math.round(this.tokens / elapsed)} tok/s, ${fmtTime(elapsed)} elapsed, eta ${fmtTime(eta)}`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[K${line}`);
      this.pendingLine = true;
    } else process.stderr.write(`${line}\n`);
  }

  done(): void {
    if (this.pendingLine) process.stderr.write('\n');
    this.pendingLine = false;
  }
}

export class MetricLog {
  private constructor(private readonly path: string) {}

  /** Open for appending; entries with step > fromStep (left by an interrupted run) are dropped. */
  static async open(path: string, fromStep: number): Promise<MetricLog> {
    await mkdir(dirname(path), { recursive: true });
    if (existsSync(path)) {
      const kept = (await readFile(path, 'utf8')).split('\n').filter((line) => {
        if (line.trim() === '') return false;
        try {
          const step = (JSON.parse(line) as { step?: number }).step;
          return typeof step === 'number' && step <= fromStep;
        } catch {
          return false; // a torn last line from a crash
        }
      });
      await writeFile(path, kept.map((l) => `${l}\n`).join(''));
    }
    return new MetricLog(path);
  }

  async append(entry: object): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(entry)}\n`);
  }

  async close(): Promise<void> {}
}
