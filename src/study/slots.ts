/**
 * The study runner's scheduler (study.ts): how many tasks run at once, and who goes first.
 */
/**
 * At most `n` tasks at once: children (unlearning, searches) and this process's evaluations.
 * This process evaluates one run at a time and goes first: a freed slot goes to its waiting
 * evaluation, and while it is idle with a run ready to evaluate (`ready`, counted before the
 * child that made it ready releases its slot) one slot is kept for it. So with one slot the order
 * is the sequential runner's (unlearn a run, evaluate it, next run), and with more, children fill
 * the other slots while it evaluates.
 */
export class Slots {
  private free: number;
  private readonly children: (() => void)[] = [];
  private parent: (() => void) | null = null;
  private parentBusy = false;
  private ready = 0;
  constructor(n: number) {
    this.free = n;
  }
  /** A run is ready for its evaluation (call before the slot that made it ready is released). */
  markReady(): void {
    this.ready++;
  }
  private kept(): number {
    return this.ready > 0 && !this.parentBusy ? 1 : 0;
  }
  private release(): void {
    this.free++;
    if (this.parent) {
      const go = this.parent;
      this.parent = null;
      this.free--;
      go();
    } else if (this.children.length > 0 && this.free > this.kept()) {
      this.free--;
      this.children.shift()!();
    }
  }
  /** Work in a child process (or for one). */
  async child<T>(work: () => Promise<T>): Promise<T> {
    if (this.children.length === 0 && this.free > this.kept()) this.free--;
    else await new Promise<void>((go) => this.children.push(go));
    try {
      return await work();
    } finally {
      this.release();
    }
  }
  /** This process's own work; `readied`: the evaluation of a run counted by markReady. */
  async parentWork<T>(readied: boolean, work: () => Promise<T>): Promise<T> {
    if (readied) this.ready--;
    if (this.free > 0) this.free--;
    else await new Promise<void>((go) => (this.parent = go));
    this.parentBusy = true;
    try {
      return await work();
    } finally {
      this.parentBusy = false;
      this.release();
    }
  }
}
