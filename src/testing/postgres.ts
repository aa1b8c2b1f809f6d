/**
 * Throwaway PostgreSQL servers for tests: initdb into a temp directory, started with pg_ctl as the
 * `postgres` OS user (server programs refuse to run as root), listening on loopback and a unix
 * socket in that directory, on a free random port. Stopped by pid-file through pg_ctl.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findServerBinDir } from '../sources/index.js';

const execFileP = promisify(execFile);

/** The server programs' directory, or undefined when PostgreSQL is not installed. */
export const PG_BINDIR = findServerBinDir(undefined);

/**
 * `describe` option: skip without PostgreSQL — except under CI, where a missing server must fail
 * (the test's `before` calls `requireServer`).
 */
export function skipUnless(available: boolean, what: string): false | string {
  if (available || process.env.CI) return false;
  return `${what} is not installed (scripts/test.sh installs it)`;
}

export function requireServer(available: boolean, what: string): void {
  if (!available)
    throw new Error(`${what} is not installed, and CI requires it (scripts/test.sh installs it)`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await execFileP('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await execFileP('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

/** A directory the postgres user owns (mode 0700 unless `mode` says otherwise). */
export async function postgresDir(path: string, mode = 0o700): Promise<string> {
  const { uid, gid } = await postgresIds();
  await mkdir(path, { recursive: true });
  await chown(path, uid, gid);
  await chmod(path, mode);
  return path;
}

export interface PgServerOptions {
  /** A temp directory every user can traverse; the server lives in `<dir>/<name>`. */
  readonly dir: string;
  readonly name?: string;
  /** Lines appended to postgresql.conf (inherited by base backups, unless external). */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * Debian's layout: postgresql.conf, pg_hba.conf and pg_ident.conf in a directory of their own
   * (`<dir>/<name>/etc`), so that base backups do not contain them.
   */
  readonly externalConfig?: boolean;
}

export class PgServer {
  private constructor(
    readonly dataDir: string,
    readonly socketDir: string,
    readonly port: number,
    readonly logFile: string,
    /** What pg_ctl start is given with -D: the data or the configuration directory. */
    private readonly ctlDir = dataDir,
  ) {}

  /** For a data directory made elsewhere (a restore): just the coordinates. */
  static attach(dataDir: string, socketDir: string, port: number, logFile: string): PgServer {
    return new PgServer(dataDir, socketDir, port, logFile);
  }

  static async start(options: PgServerOptions): Promise<PgServer> {
    if (!PG_BINDIR) throw new Error('PostgreSQL is not installed');
    const home = await postgresDir(join(options.dir, options.name ?? 'pg'), 0o755);
    const dataDir = join(home, 'data');
    const socketDir = await postgresDir(join(home, 's'), 0o755);
    await asPostgres([
      join(PG_BINDIR, 'initdb'),
      '-D',
      dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
    ]);
    const port = await freePort();
    const conf = {
      port: String(port),
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: `'${socketDir}'`,
      fsync: 'off',
      shared_buffers: "'32MB'",
      max_wal_size: "'256MB'",
      ...options.settings,
    };
    const text = Object.entries(conf)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n');
    await writeFile(join(dataDir, 'postgresql.conf'), `\n${text}\n`, { flag: 'a' });
    let ctlDir = dataDir;
    if (options.externalConfig) {
      ctlDir = await postgresDir(join(home, 'etc'));
      for (const f of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf'])
        await rename(join(dataDir, f), join(ctlDir, f));
      const paths = [
        `data_directory = '${dataDir}'`,
        `hba_file = '${join(ctlDir, 'pg_hba.conf')}'`,
        `ident_file = '${join(ctlDir, 'pg_ident.conf')}'`,
      ];
      await writeFile(join(ctlDir, 'postgresql.conf'), `\n${paths.join('\n')}\n`, { flag: 'a' });
    }
    const server = new PgServer(dataDir, socketDir, port, join(home, 'server.log'), ctlDir);
    await server.startExisting();
    return server;
  }

  async startExisting(): Promise<void> {
    await asPostgres([
      join(PG_BINDIR!, 'pg_ctl'),
      '-D',
      this.ctlDir,
      '-l',
      this.logFile,
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  /** libpq connection flags for holdfast's pg commands. */
  connectionArgs(): string[] {
    return ['-h', this.socketDir, '-p', String(this.port), '-U', 'postgres'];
  }

  /**
   * Runs SQL through psql (unaligned, tuples only) as the postgres OS user, so that peer
   * authentication works too, and returns its output, trimmed.
   */
  async sql(sql: string, db = 'postgres'): Promise<string> {
    const out = await asPostgres([
      join(PG_BINDIR!, 'psql'),
      '-X',
      '-A',
      '-t',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      ...this.connectionArgs(),
      '-d',
      db,
      '-c',
      sql,
    ]);
    return out.trim();
  }

  async pgbench(args: readonly string[], db = 'postgres'): Promise<void> {
    await execFileP(join(PG_BINDIR!, 'pgbench'), [...this.connectionArgs(), ...args, db], {
      maxBuffer: 64 << 20,
    });
  }

  /** Forces a segment switch and waits until the archiver has archived it. */
  async switchAndWaitArchived(timeoutMs = 60_000): Promise<string> {
    const wal = await this.sql('select pg_walfile_name(pg_switch_wal())');
    await this.waitArchived(wal, timeoutMs);
    return wal;
  }

  async waitArchived(wal: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [last, failed] = (
        await this.sql('select last_archived_wal, last_failed_wal from pg_stat_archiver')
      ).split('|');
      // Names order by timeline, then position; .history/.partial names sort before segments.
      if (last !== undefined && last.length > 0 && last >= wal) return;
      if (Date.now() > deadline)
        throw new Error(`WAL ${wal} not archived in time (last ${last}, failed ${failed})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!existsSync(join(this.dataDir, 'postmaster.pid'))) return;
    await asPostgres([
      join(PG_BINDIR!, 'pg_ctl'),
      '-D',
      this.dataDir,
      '-m',
      mode,
      '-w',
      'stop',
    ]).catch(() => undefined);
  }
}

export async function asPostgres(argv: readonly string[]): Promise<string> {
  const { stdout } = await execFileP('runuser', ['-u', 'postgres', '--', ...argv], {
    maxBuffer: 64 << 20,
  });
  return stdout;
}
