/**
 * The study runner's scheduler (study.ts): how many tasks run at once, and who goes first.
 */
/**
 * At most `n` tasks at once: children (unlearning, searches) and evaluations (in this process with
 * one job, in children with more). Evaluations go first: a freed slot goes to a waiting
 * evaluation, and while a run is ready to be evaluated (`ready`, counted before the child that
 * made it ready releases its slot, until its evaluation asks) one slot is kept for it. So with one
 * slot the order is the sequential runner's (unlearn a run, evaluate it, next run), and with more,
 * finished runs are graded as soon as they can be while children fill the other slots.
 */
export class Slots {
  private free: number;
  private readonly children: (() => void)[] = [];
  private readonly first: (() => void)[] = [];
  private ready = 0;
  constructor(n: number) {
    this.free = n;
  }
  /** A run is ready for its evaluation (call before the slot that made it ready is released). */
  markReady(): void {
    this.ready++;
  }
  private kept(): number {
    return this.ready > 0 ? 1 : 0;
  }
  private release(): void {
    this.free++;
    if (this.first.length > 0) {
      this.free--;
      this.first.shift()!();
    } else if (this.children.length > 0 && this.free > this.kept()) {
      this.free--;
      this.children.shift()!();
    }
  }
  private async hold<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      this.release();
    }
  }
  /** A child's work (unlearning, a search). */
  async child<T>(work: () => Promise<T>): Promise<T> {
    if (this.children.length === 0 && this.free > this.kept()) this.free--;
    else await new Promise<void>((go) => this.children.push(go));
    return this.hold(work);
  }
  /** An evaluation (first in line); `readied`: of a run counted by markReady. */
  async evaluation<T>(readied: boolean, work: () => Promise<T>): Promise<T> {
    if (readied) this.ready--;
    if (this.free > 0) this.free--;
    else await new Promise<void>((go) => this.first.push(go));
    return this.hold(work);
  }
}
