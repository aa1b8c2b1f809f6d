/**
 * Client credentials of the repository server: users and scrypt password hashes, checked against
 * HTTP Basic authentication. The credentials file (--htpasswd) holds one user per line:
 *
 *   NAME:$scrypt$ln=15,r=8,p=1$SALT$HASH
 *
 * SALT (16 bytes) and HASH (32 bytes) in unpadded base64; `#` lines and blank lines are ignored.
 * `holdfast server add-user` writes such lines. The comparison is constant-time, and an unknown
 * user costs the same scrypt run as a known one, so timing reveals neither names nor hashes.
 *
 * scrypt costs tens of milliseconds by design, too much for every request of a restore that
 * makes hundreds per second. A successful check is therefore remembered as an HMAC of the
 * password under a key that lives only in this process's memory, and later requests compare
 * against it (still constant-time) until the server stops.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { HoldfastError, Semaphore } from '../core/index.js';

export interface ScryptCost {
  /** log2 of N. */
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

/** 32 MiB and about 50 ms per check. */
export const DEFAULT_SCRYPT_COST: ScryptCost = { ln: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const NAME = /^[^\s:#][^\s:]{0,127}$/;
const LINE = /^([^:]+):\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

interface StoredHash {
  readonly cost: ScryptCost;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export class Credentials {
  readonly #users = new Map<string, StoredHash>();
  readonly #verified = new Map<string, Buffer>();
  readonly #cacheKey = randomBytes(32);
  /** Bounds the CPU and memory that failed logins can cost (scrypt runs in the thread pool). */
  readonly #scrypts = new Semaphore(2);
  readonly #dummy: StoredHash = {
    cost: DEFAULT_SCRYPT_COST,
    salt: randomBytes(SALT_BYTES),
    hash: randomBytes(HASH_BYTES),
  };

  get size(): number {
    return this.#users.size;
  }

  /** Parses a credentials file's text; `source` names it in errors. */
  static parse(text: string, source: string): Credentials {
    const credentials = new Credentials();
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const m = LINE.exec(line);
      const cost = m && { ln: Number(m[2]), r: Number(m[3]), p: Number(m[4]) };
      const salt = m && Buffer.from(m[5]!, 'base64');
      const hash = m && Buffer.from(m[6]!, 'base64');
      if (
        !m ||
        !NAME.test(m[1]!) ||
        !cost ||
        !validCost(cost) ||
        salt?.length !== SALT_BYTES ||
        hash?.length !== HASH_BYTES
      ) {
        throw new HoldfastError(
          'CONFIG_INVALID',
          `${source} line ${i + 1}: not a holdfast credentials line`,
          {
            hint: 'expected NAME:$scrypt$ln=15,r=8,p=1$SALT$HASH, as "holdfast server add-user" writes',
          },
        );
      }
      if (credentials.#users.has(m[1]!))
        throw new HoldfastError(
          'CONFIG_INVALID',
          `${source} line ${i + 1}: user "${m[1]}" appears twice`,
        );
      credentials.#users.set(m[1]!, { cost, salt: salt, hash: hash });
    });
    return credentials;
  }

  /** Adds a user with a password given in clear (--user NAME:PASSWORD). */
  async add(name: string, password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<void> {
    assertValidName(name);
    if (this.#users.has(name)) throw new HoldfastError('USAGE', `user "${name}" is given twice`);
    const salt = randomBytes(SALT_BYTES);
    this.#users.set(name, { cost, salt, hash: await derive(password, salt, cost) });
  }

  /** True when `name` exists and `password` is its password. */
  async verify(name: string, password: string): Promise<boolean> {
    const tag = createHmac('sha256', this.#cacheKey)
      .update(name)
      .update('\0')
      .update(password)
      .digest();
    const known = this.#verified.get(name);
    if (known && timingSafeEqual(known, tag)) return true;
    const stored = this.#users.get(name);
    const target = stored ?? this.#dummy;
    const derived = await this.#scrypts.run(() => derive(password, target.salt, target.cost));
    const ok = timingSafeEqual(derived, target.hash) && stored !== undefined;
    if (ok) this.#verified.set(name, tag);
    return ok;
  }
}

/** One credentials-file line for `name` (what `server add-user` appends). */
export async function credentialsLine(
  name: string,
  password: string,
  cost: ScryptCost = DEFAULT_SCRYPT_COST,
): Promise<string> {
  assertValidName(name);
  if (password.length === 0) throw new HoldfastError('USAGE', 'an empty password is not allowed');
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, cost);
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `${name}:$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(hash)}`;
}

function assertValidName(name: string): void {
  if (!NAME.test(name))
    throw new HoldfastError('USAGE', `invalid user name "${name.slice(0, 40)}"`, {
      hint: 'user names have no spaces or colons and do not start with #',
    });
}

/** Bounds that keep a hostile credentials file from asking for gigabytes or minutes. */
function validCost(c: ScryptCost): boolean {
  return c.ln >= 10 && c.ln <= 20 && c.r >= 1 && c.r <= 32 && c.p >= 1 && c.p <= 4;
}

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.ln;
  const maxmem = 256 * N * cost.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, HASH_BYTES, { N, r: cost.r, p: cost.p, maxmem }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}
