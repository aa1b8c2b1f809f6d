/**
 * AccountNames: uid → user name and gid → group name, from /etc/passwd and /etc/group. Each file
 * is parsed once, on first use, and kept for the life of the object (a backup run); nothing is
 * spawned. Names are decoration stored next to the numeric ids, so an unreadable or missing file
 * simply yields no names. Accounts only known to NSS services (LDAP, sssd) are not resolved.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface AccountFiles {
  readonly passwd: string;
  readonly group: string;
}

const SYSTEM_FILES: AccountFiles = { passwd: '/etc/passwd', group: '/etc/group' };

export class AccountNames {
  private users: Promise<Map<number, string>> | undefined;
  private groups: Promise<Map<number, string>> | undefined;

  constructor(private readonly files: AccountFiles = SYSTEM_FILES) {}

  async userName(uid: number): Promise<string | undefined> {
    this.users ??= readAccountFile(this.files.passwd);
    return (await this.users).get(uid);
  }

  async groupName(gid: number): Promise<string | undefined> {
    this.groups ??= readAccountFile(this.files.group);
    return (await this.groups).get(gid);
  }
}

let system: AccountNames | undefined;

/** The shared instance reading the system's files. */
export function systemAccountNames(): AccountNames {
  system ??= new AccountNames();
  return system;
}

/**
 * SHA-256 of the system's account files as they are now (a missing file counts as empty): the
 * owner names recorded in a backup depend on nothing else, so a walk cache keyed by it is never
 * used across a change of names.
 */
export async function accountFilesDigest(files: AccountFiles = SYSTEM_FILES): Promise<Buffer> {
  const hash = createHash('sha256');
  for (const path of [files.passwd, files.group]) {
    const text = await readFile(path).catch(() => Buffer.alloc(0));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(text.length));
    hash.update(length).update(text);
  }
  return hash.digest();
}

async function readAccountFile(path: string): Promise<Map<number, string>> {
  try {
    return parseAccountFile(await readFile(path, 'utf8'));
  } catch {
    return new Map();
  }
}

/**
 * Parses `name:password:id:...` lines (the layout both files share). The first line for an id
 * wins, as with getpwuid(3); comments, blank and malformed lines are skipped.
 */
export function parseAccountFile(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, , idText] = line.split(':');
    if (name === undefined || name === '' || idText === undefined || !/^\d+$/.test(idText))
      continue;
    const id = Number(idText);
    if (!names.has(id)) names.set(id, name);
  }
  return names;
}
