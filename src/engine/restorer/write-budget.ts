/**
 * WriteBudget: bounds the blob plaintext waiting to be written, in bytes and in deliveries, so
 * that pack readers can move on to the next blob while earlier ones are still being written
 * (many small files are written in parallel) without holding unbounded memory. A single blob
 * larger than the byte budget is admitted alone.
 */
export class WriteBudget {
  private bytes = 0;
  private count = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly maxBytes: number,
    private readonly maxCount: number,
  ) {}

  /** Resolves once `n` bytes fit; pair every acquire with one release(n). */
  async acquire(n: number): Promise<void> {
    while (!this.fits(n)) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.bytes += n;
    this.count++;
  }

  release(n: number): void {
    this.bytes -= n;
    this.count--;
    // Wake everyone: each re-checks, and waiters are few (one per pack reader).
    for (const wake of this.waiters.splice(0)) wake();
  }

  private fits(n: number): boolean {
    if (this.count === 0) return true;
    return this.count < this.maxCount && this.bytes + n <= this.maxBytes;
  }
}
