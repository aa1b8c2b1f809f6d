/**
 * Password-based key derivation for key files (docs/adr/0002-aead-and-kdf.md). scrypt is
 * memory-hard and built into Node, so no native dependency is needed; its parameters are stored
 * in every key file so they can be raised later without breaking old keys.
 */
import { randomBytes, scrypt } from 'node:crypto';
import { HoldfastError } from '../../core/index.js';

export interface KdfParams {
  readonly algorithm: 'scrypt';
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
  /** base64 of 32 random bytes */
  readonly salt: string;
}

/**
 * 2^15 × 8 × 128 B = 32 MiB of memory per derivation, four passes (≈ 0.22 s on one core of the
 * benchmark machine). An attacker pays memory × time per guess, N² · r² · p, the same as for
 * N = 2^16, p = 1 (64 MiB, ≈ 0.14 s), and twice the memory traffic; every command that opens a
 * repository peaks 32 MiB lower for it (docs/adr/0011-kdf-cost.md).
 */
export const DEFAULT_KDF_COST = { N: 1 << 15, r: 8, p: 4 } as const;

export type KdfCost = { readonly N: number; readonly r: number; readonly p: number };

export function newKdfParams(cost: KdfCost = DEFAULT_KDF_COST): KdfParams {
  return { algorithm: 'scrypt', ...cost, salt: randomBytes(32).toString('base64') };
}

export function validateKdfParams(params: KdfParams): void {
  if (
    typeof params !== 'object' ||
    params === null ||
    !Number.isInteger(params.r) ||
    !Number.isInteger(params.p) ||
    typeof params.salt !== 'string'
  ) {
    throw new HoldfastError('INTEGRITY', 'key file has malformed KDF parameters');
  }
  const { N, r, p } = params;
  const powerOfTwo = Number.isInteger(N) && N >= 1024 && (N & (N - 1)) === 0;
  // Upper bounds stop a forged key file from making every open allocate gigabytes or spin for
  // minutes: at most 2^20 × 16 × 128 B = 2 GiB and p ≤ 4 (a few seconds here at the extreme).
  if (
    params.algorithm !== 'scrypt' ||
    !powerOfTwo ||
    N > 1 << 20 ||
    r < 1 ||
    r > 16 ||
    p < 1 ||
    p > 4
  ) {
    throw new HoldfastError('INTEGRITY', `key file has unsupported KDF parameters`);
  }
}

export function deriveKeyEncryptionKey(password: string, params: KdfParams): Promise<Buffer> {
  validateKdfParams(params);
  const salt = Buffer.from(params.salt, 'base64');
  const maxmem = 128 * params.N * params.r * 2 + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      32,
      { N: params.N, r: params.r, p: params.p, maxmem },
      (err, key) => {
        if (err)
          reject(
            new HoldfastError('FAILURE', `key derivation failed: ${err.message}`, { cause: err }),
          );
        else resolve(key);
      },
    );
  });
}
