/**
 * A holdfast repository server on loopback for tests: in-process, on a random port, serving a
 * fresh temporary directory, with cheap scrypt so that logins stay fast.
 */
import {
  RepositoryServer,
  Credentials,
  type RepositoryServerOptions,
  type TlsFiles,
} from '../server/index.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

export interface RestServerFixture {
  readonly server: RepositoryServer;
  /** The served directory. */
  readonly root: string;
  /** `http://127.0.0.1:PORT/` (or https). */
  readonly url: string;
  /** `rest:` location of the repository at `prefix`, with the first user's credentials. */
  location(prefix?: string, user?: string): string;
  stop(): Promise<void>;
}

export interface RestServerSetup extends Partial<
  Omit<RepositoryServerOptions, 'root' | 'credentials'>
> {
  /** name → password; default one user "client" with password "client-password". */
  readonly users?: Readonly<Record<string, string>>;
  readonly tls?: TlsFiles;
}

export const TEST_USER = 'client';
export const TEST_PASSWORD = 'client-password';

export async function startRestServer(setup: RestServerSetup = {}): Promise<RestServerFixture> {
  const root = await makeTempDir('rest-server');
  const users = setup.users ?? { [TEST_USER]: TEST_PASSWORD };
  const credentials = new Credentials();
  for (const [name, password] of Object.entries(users))
    await credentials.add(name, password, { ln: 10, r: 8, p: 1 });
  const server = new RepositoryServer({ ...setup, root, credentials });
  const url = await server.listen({ host: '127.0.0.1', port: 0 }, setup.tls);
  const first = Object.keys(users)[0] ?? TEST_USER;
  return {
    server,
    root,
    url,
    location(prefix = '', user = first) {
      const auth = `${encodeURIComponent(user)}:${encodeURIComponent(users[user] ?? '')}@`;
      return `rest:${url.replace('://', `://${auth}`)}${prefix === '' ? '' : `${prefix}/`}`;
    },
    async stop() {
      await server.close(1000);
      await removeTempDir(root);
    },
  };
}
