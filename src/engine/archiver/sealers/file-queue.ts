/**
 * FileQueue: files waiting for a worker, cut into jobs when a worker has room. Small files go in
 * batches: half the files of a kernel tree are 4 KiB or smaller, and a message per file would
 * cost more than reading it. A file larger than a batch goes alone, so one job never holds more
 * than one large file and the other workers keep draining the small ones.
 *
 * Jobs are formed when a worker asks, not when files arrive, so a slow walk never holds files
 * back waiting for a batch to fill.
 */
export const JOB_MAX_FILES = 64;
export const JOB_MAX_BYTES = 8 * 1024 * 1024;

export class FileQueue<T extends { readonly size: number }> {
  private items: T[] = [];
  private head = 0;
  /** Sizes of the queued files, summed. */
  private bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** Whether the queue holds `jobs` whole jobs' worth (of JOB_MAX_FILES files or JOB_MAX_BYTES). */
  holdsJobs(jobs: number): boolean {
    return this.length >= jobs * JOB_MAX_FILES || this.bytes >= jobs * JOB_MAX_BYTES;
  }

  push(item: T): void {
    this.items.push(item);
    this.bytes += item.size;
  }

  /** The next job, in queue order: up to JOB_MAX_FILES files and JOB_MAX_BYTES, at least one. */
  takeJob(): T[] {
    const job: T[] = [];
    let bytes = 0;
    while (this.head < this.items.length && job.length < JOB_MAX_FILES) {
      const next = this.items[this.head]!;
      if (job.length > 0 && bytes + next.size > JOB_MAX_BYTES) break;
      job.push(next);
      bytes += next.size;
      this.head++;
    }
    this.bytes -= bytes;
    this.compact();
    return job;
  }

  /** Empties the queue, returning what was in it (to fail those files). */
  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return rest;
  }

  /** Drops taken items now and then, so the array does not grow with every file ever queued. */
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
