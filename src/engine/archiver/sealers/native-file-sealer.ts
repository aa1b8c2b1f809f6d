/**
 * NativeFileSealer: one native file sealer (native/file_seal.c, file_sealer.c) — a thread that
 * reads, cuts, hashes, compresses and seals the files of the jobs it is given, as a file
 * worker's JavaScript did, without a V8 isolate of its own (docs/adr/0013-native-file-sealers.md).
 * Its reports arrive on the main thread's event loop, in order; sealed blobs stay in its slabs.
 */
import { loadAddon } from '../../../core/index.js';
import { cutRuleOf, gearTableFromKey, type ChunkerParams } from '../../chunker/index.js';
import { compressionSettings, type CompressionMode } from '../../compression/index.js';
import {
  decodeReport,
  encodeJob,
  type FileTask,
  type SealerMessage,
  type SealTask,
} from './sealer-codec.js';

declare const handle: unique symbol;
type SealerHandle = { readonly [handle]: true };

/** The file sealer calls of the holdfast_crypto addon (native/file_sealer.c). */
interface FileSealerAddon {
  fileSealer(
    masterKey: Uint8Array,
    idKey: Uint8Array,
    gear: Int32Array,
    rule: Float64Array,
    settings: Float64Array,
    onReport: (report: Buffer, slabs: ArrayBuffer[]) => void,
  ): SealerHandle;
  fileSealerJob(sealer: SealerHandle, job: number, tasks: Uint8Array, chunks: Uint8Array[]): void;
  fileSealerGive(sealer: SealerHandle, bytes: number): void;
  fileSealerFree(sealer: SealerHandle, slab: number): void;
  fileSealerClose(sealer: SealerHandle): void;
}

/** What a sealer needs to turn plaintext into sealed blobs exactly as BlobWriter.save does. */
export interface FileSealerSetup {
  readonly masterKey: Uint8Array;
  readonly idKey: Uint8Array;
  readonly chunkerKey: Buffer;
  readonly chunkerParams: ChunkerParams;
  readonly compression: CompressionMode;
  /** Size of a slab: a report is posted when the next blob does not fit (and at the end of a job). */
  readonly slabBytes: number;
  /** Sealed bytes posted and not given back at most: the sealer waits for credit beyond it. */
  readonly creditWindow: number;
}

let made = 0;

/** File sealers made by this process (tests: a backup's sealers start as its backlog needs). */
export function fileSealersMade(): number {
  return made;
}

export class NativeFileSealer {
  private readonly addon = loadAddon<FileSealerAddon>('holdfast_crypto');
  private readonly handle: SealerHandle;

  constructor(setup: FileSealerSetup, onMessage: (message: SealerMessage) => void) {
    const { level, sampled } = compressionSettings(setup.compression);
    this.handle = this.addon.fileSealer(
      setup.masterKey,
      setup.idKey,
      gearTableFromKey(setup.chunkerKey),
      Float64Array.from(cutRuleOf(setup.chunkerParams)),
      Float64Array.of(level, sampled ? 1 : 0, setup.slabBytes, setup.creditWindow),
      (report, slabs) => onMessage(decodeReport(report, slabs)),
    );
    made++;
  }

  /** Queues job `id` (a positive integer); its stream chunks are read in place until it is done. */
  job(id: number, tasks: readonly (FileTask | SealTask)[]): void {
    const encoded = encodeJob(tasks);
    this.addon.fileSealerJob(this.handle, id, encoded.tasks, encoded.chunks);
  }

  /** Gives back the credit of a report whose blobs the writer took. */
  give(bytes: number): void {
    this.addon.fileSealerGive(this.handle, bytes);
  }

  /** The main thread holds no blob of retired slab `slab` any more. */
  free(slab: number): void {
    this.addon.fileSealerFree(this.handle, slab);
  }

  /** Stops the sealer's threads; queued jobs are abandoned, later reports dropped. */
  close(): void {
    this.addon.fileSealerClose(this.handle);
  }
}
