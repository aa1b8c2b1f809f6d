/**
 * Reads a pack's header without downloading the pack: the trailer (4 bytes) gives the sealed
 * header's length, a second ranged read fetches it. Used wherever the index is rebuilt or
 * extended from packs alone (repair index, prune, a backup's pre-commit check).
 */
import { HoldfastError, type PackId } from '../../core/index.js';
import { decodePackHeader, PACK_TRAILER_BYTES, type PackEntry } from '../format/index.js';
import type { Repository } from './repository.js';

export async function readPackHeader(
  repo: Repository,
  packId: PackId,
  size: number,
  signal?: AbortSignal,
): Promise<PackEntry[]> {
  const opt = signal ? { signal } : {};
  const trailer = await repo.store.get(
    'pack',
    packId,
    { offset: size - PACK_TRAILER_BYTES, length: PACK_TRAILER_BYTES },
    opt,
  );
  const tailLength = trailer.readUInt32LE(0) + PACK_TRAILER_BYTES;
  if (tailLength > size)
    throw new HoldfastError('INTEGRITY', `pack ${packId}: header length exceeds the pack`);
  const tail = await repo.store.get(
    'pack',
    packId,
    { offset: size - tailLength, length: tailLength },
    opt,
  );
  return decodePackHeader(repo.masterKeyForCheck(), tail, size, `pack ${packId}`);
}
