/**
 * CreditGate: backpressure between one file worker and the main thread, in sealed bytes.
 *
 * The worker takes credit before it posts a report and blocks (Atomics.wait) while there is not
 * enough; the main thread gives the credit back once the report's blobs are in the BlobWriter,
 * whose `saveSealed` itself waits while uploads are saturated. So a worker never has more than
 * `window` bytes posted but not yet consumed, however slow the storage is — postMessage alone
 * has no backpressure and would queue a whole disk's worth of sealed blobs in memory.
 *
 * A counter in shared memory rather than ack messages: the worker runs synchronous code and
 * never returns to its event loop while it reads a large file, so it could not receive an ack.
 */
const CREDIT = 0;
const CLOSED = 1;
/** Wake up now and then to notice a close even if a notify was missed. */
const WAIT_MS = 200;

export class CreditGate {
  private readonly cells: Int32Array;

  /** `shared` holds the two int32 cells; the main thread makes them with `create`. */
  constructor(
    shared: SharedArrayBuffer,
    readonly window: number,
  ) {
    this.cells = new Int32Array(shared, 0, 2);
  }

  static create(window: number): CreditGate {
    const gate = new CreditGate(new SharedArrayBuffer(8), window);
    Atomics.store(gate.cells, CREDIT, window);
    return gate;
  }

  get shared(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }

  /**
   * Worker side: waits until `bytes` (at most the whole window) are available, then takes them.
   * Credit may go negative when one report is larger than the window; the next take waits for
   * it to come back. Returns false when the gate was closed (the pool is shutting down).
   */
  take(bytes: number): boolean {
    const need = Math.min(bytes, this.window);
    for (;;) {
      if (Atomics.load(this.cells, CLOSED) !== 0) return false;
      const credit = Atomics.load(this.cells, CREDIT);
      if (credit >= need) break;
      Atomics.wait(this.cells, CREDIT, credit, WAIT_MS);
    }
    // Only this thread subtracts, so the credit checked above cannot shrink meanwhile.
    Atomics.sub(this.cells, CREDIT, bytes);
    return true;
  }

  /** Main side: returns credit for bytes the writer has consumed. */
  give(bytes: number): void {
    Atomics.add(this.cells, CREDIT, bytes);
    Atomics.notify(this.cells, CREDIT);
  }

  /** Main side: releases a worker blocked in `take` for good. */
  close(): void {
    Atomics.store(this.cells, CLOSED, 1);
    Atomics.notify(this.cells, CREDIT);
  }
}
