/**
 * SpooledPacker: a data pack filled on disk (PackSpool) instead of in memory. Each sealed blob is
 * copied into a 1 MiB stage as it comes — or, if larger, written on its own — and handed back to
 * its owner at once, so that the sealers' slabs are reused within milliseconds instead of
 * waiting for the pack to be stored; full stages are written to the pack's spool file in arrival
 * order, one write at a time while the other stage fills. `finish` lays the pack out in its
 * random order into a second spool file in the thread pool, naming it on the way
 * (packFromSpool, native/pack_layout.c), and the store reads that file (FileBody).
 *
 * What this buys: the open pack and the packs being uploaded (BlobWriter keeps two in flight)
 * were held in memory, in the slabs of their blobs — 16 MiB each with the default pack size, and
 * a slab stays as long as any of its blobs waits. On disk they cost page cache, which the kernel
 * reclaims, instead of the process's memory; the copies to and from the spool are a small part
 * of a backup's CPU time (docs/benchmarks.md). Memory: two stages per packer.
 */
import type { BlobId, PackId } from '../../core/index.js';
import { FileBody } from '../../storage/index.js';
import { blobCrypto } from '../crypto/index.js';
import { encodePackHeader, type BlobType, type CompressionCode } from '../format/index.js';
import { writeAt, type PackSpool, type WritableSpoolFile } from '../spool/pack-spool.js';
import {
  FillingPack,
  laidOut,
  shuffledOrder,
  type FinishedPack,
  type PackFilling,
  type SealedBlobOwner,
} from './packer.js';
import { spoolError } from './spool-error.js';

export class SpooledPacker extends FillingPack implements PackFilling {
  private readonly file: Promise<WritableSpoolFile>;
  private stage: Buffer;
  private spare: Buffer;
  /** Bytes in `stage`, and where in the file they go. */
  private staged = 0;
  private stagedAt = 0;
  /** The write of the spare stage, or of a large blob, in flight. */
  private writing: Promise<void> = Promise.resolve();
  /**
   * Blobs waiting for a stage, in the order they were added (their offsets are given then):
   * while one waits, later ones queue behind it instead of taking the stage's room.
   */
  private queue: Promise<void> | undefined;
  private stagesBack = false;

  constructor(
    type: BlobType,
    targetSize: number,
    private readonly spool: PackSpool,
  ) {
    super(type, targetSize);
    this.file = spool.createWritable();
    // Reported by the first write, or by finish.
    this.file.catch(() => undefined);
    this.stage = spool.takeStage();
    this.spare = spool.takeStage();
  }

  add(
    id: BlobId,
    sealed: Buffer,
    rawLength: number,
    compression: CompressionCode,
    owner?: SealedBlobOwner,
  ): Promise<void> | undefined {
    const at = this.record(id, sealed.length, rawLength, compression);
    if (this.queue === undefined && sealed.length <= this.stage.length - this.staged) {
      this.copyToStage(sealed, owner);
      return undefined;
    }
    const placed = (this.queue ?? Promise.resolve()).then(() => this.place(sealed, at, owner));
    this.queue = placed;
    placed.then(
      () => {
        if (this.queue === placed) this.queue = undefined;
      },
      () => undefined, // the caller has the rejection; later blobs queued behind it get it too
    );
    return placed;
  }

  private copyToStage(sealed: Buffer, owner: SealedBlobOwner | undefined): void {
    sealed.copy(this.stage, this.staged);
    this.staged += sealed.length;
    owner?.release(sealed);
  }

  /** A blob that did not fit in the stage: the stage goes to disk, and a large blob with it. */
  private async place(sealed: Buffer, at: number, owner?: SealedBlobOwner): Promise<void> {
    if (sealed.length <= this.stage.length - this.staged) return this.copyToStage(sealed, owner);
    await this.flushStage();
    if (sealed.length <= this.stage.length) return this.copyToStage(sealed, owner);
    // Written from the owner's memory, and handed back once written.
    await this.writing;
    this.writing = this.write(sealed, at);
    await this.writing;
    this.stagedAt = at + sealed.length;
    owner?.release(sealed);
  }

  /** Starts writing the stage (after the write in flight) and takes the spare to fill. */
  private async flushStage(): Promise<void> {
    await this.writing;
    if (this.staged > 0) {
      const full = this.stage;
      this.stage = this.spare;
      this.spare = full;
      this.writing = this.write(full.subarray(0, this.staged), this.stagedAt);
      // Awaited before the next write or in finish; until then not an unhandled rejection.
      this.writing.catch(() => undefined);
    }
    this.stagedAt += this.staged;
    this.staged = 0;
  }

  private async write(bytes: Uint8Array, position: number): Promise<void> {
    const { path, handle } = await this.opened();
    try {
      await writeAt(handle, bytes, position);
    } catch (err) {
      throw spoolError(err, 'write a pack to', path);
    }
  }

  /** The pack's spool file; rejects with a HoldfastError when it could not be made. */
  private async opened(): Promise<WritableSpoolFile> {
    try {
      return await this.file;
    } catch (err) {
      throw spoolError(err, 'create a pack in', this.spool.dir);
    }
  }

  async finish(masterKey: Buffer): Promise<FinishedPack> {
    let spooled: WritableSpoolFile | undefined;
    let laid: WritableSpoolFile | undefined;
    try {
      spooled = await this.opened();
      await this.queue;
      await this.flushStage();
      await this.writing;
      const order = shuffledOrder(this.entries.length);
      const entries = laidOut(this.entries, order);
      const ranges = new Float64Array(2 * order.length);
      order.forEach((i, k) => {
        ranges[2 * k] = this.entries[i]!.offset;
        ranges[2 * k + 1] = this.entries[i]!.length;
      });
      const tail = encodePackHeader(masterKey, entries);
      laid = await this.spool.createWritable();
      const { fd } = laid.handle;
      let id: PackId;
      try {
        id = (await blobCrypto().packFromSpool(spooled.handle.fd, fd, ranges, tail)) as PackId;
      } catch (err) {
        throw spoolError(err, 'lay a pack out in', laid.path);
      } finally {
        await laid.handle.close();
      }
      const { path } = laid;
      return {
        id,
        body: new FileBody(path, this.bytes + tail.length),
        entries,
        done: () => this.spool.remove(path),
      };
    } catch (err) {
      if (laid !== undefined) this.spool.remove(laid.path);
      throw err;
    } finally {
      await this.writing.catch(() => undefined);
      this.giveStagesBack();
      if (spooled !== undefined) {
        await spooled.handle.close().catch(() => undefined);
        this.spool.remove(spooled.path);
      }
    }
  }

  /** Once no write uses them: the stages go back to the spool for the next packer. */
  private giveStagesBack(): void {
    if (this.stagesBack) return;
    this.stagesBack = true;
    this.spool.giveStage(this.stage);
    this.spool.giveStage(this.spare);
  }
}
