/**
 * openStore: turns a repository location into an ObjectStore. One switch on the scheme; each new
 * backend adds a case here and nowhere else.
 *
 *   /srv/repo, ./repo, local:/srv/repo   LocalStore at the absolute path
 *   memory:, memory:NAME                 MemoryStore shared by every open of the same location
 *                                        for the life of the process (tests, dry runs)
 */
import { resolve } from 'node:path';
import { HoldfastError } from '../core/index.js';
import { LocalStore } from './local/local-store.js';
import { MemoryStore, type MemoryObjects } from './memory/memory-store.js';
import type { ObjectStore } from './object-store.js';

/** Backends on the roadmap, so their locations get "not available yet" rather than "unknown". */
const PLANNED = new Set(['s3', 'rest', 'sftp', 'b2', 'azure', 'gs', 'swift', 'rclone']);

const memoryRepositories = new Map<string, MemoryObjects>();

export function openStore(location: string): ObjectStore {
  if (location.trim() === '') {
    throw new HoldfastError('USAGE', 'repository location is empty', {
      hint: 'give a path, or a location such as local:/srv/backup',
    });
  }
  // Two or more letters, so a Windows drive letter ("C:\repo") stays a path.
  const match = /^([a-z][a-z0-9+.-]+):(.*)$/is.exec(location);
  if (!match) return new LocalStore(resolve(location));
  const scheme = (match[1] ?? '').toLowerCase();
  const rest = match[2] ?? '';
  switch (scheme) {
    case 'local':
      if (rest === '')
        throw new HoldfastError('USAGE', 'local: needs a path, e.g. local:/srv/backup');
      return new LocalStore(resolve(rest));
    case 'memory': {
      const key = `memory:${rest}`;
      let objects = memoryRepositories.get(key);
      if (!objects) memoryRepositories.set(key, (objects = new Map<string, Buffer>()));
      // A new handle per open over shared contents: closing one handle leaves the others usable.
      return new MemoryStore({ location: key, objects });
    }
    default:
      throw unavailableBackend(scheme);
  }
}

function unavailableBackend(scheme: string): HoldfastError {
  if (PLANNED.has(scheme)) {
    return new HoldfastError('USAGE', `storage backend "${scheme}" is not available yet`, {
      hint: 'use a local path (local:PATH) for now',
    });
  }
  return new HoldfastError('USAGE', `unknown storage backend "${scheme}"`, {
    hint: 'for a local path that contains a colon, write local:PATH or ./PATH',
  });
}
