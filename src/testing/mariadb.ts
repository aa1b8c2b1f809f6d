/**
 * Throwaway MariaDB servers for tests: mariadb-install-db and mariadbd with --no-defaults (nothing
 * read from /etc/mysql), a socket in the temp directory, a random loopback port, and a TCP user
 * with a password for the tool (root@localhost authenticates by socket only). Stopped by pid.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './postgres.js';

const execFileP = promisify(execFile);

export const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((p) => existsSync(p));

export class MariaDbServer {
  readonly user = 'holdfast';
  readonly password = 'dump-secret';

  private constructor(
    readonly dir: string,
    readonly socket: string,
    readonly port: number,
    readonly passwordFile: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(dir: string): Promise<MariaDbServer> {
    if (!MARIADBD) throw new Error('MariaDB is not installed');
    const home = join(dir, 'my');
    const data = join(home, 'data');
    await mkdir(data, { recursive: true });
    await execFileP(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${data}`,
        '--user=root',
        '--auth-root-authentication-method=socket',
        '--skip-test-db',
      ],
      {
        maxBuffer: 16 << 20,
      },
    );
    const port = await freePort();
    const socket = join(home, 'sock');
    const child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--socket=${socket}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        `--pid-file=${join(home, 'pid')}`,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=32M',
        `--log-error=${join(home, 'error.log')}`,
      ],
      { stdio: 'ignore' },
    );
    const passwordFile = join(home, 'password');
    const server = new MariaDbServer(home, socket, port, passwordFile, child);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await server.rootSql('select 1');
        break;
      } catch (err) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`mariadbd did not start: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await server.rootSql(
      `create user '${server.user}'@'127.0.0.1' identified by '${server.password}'; ` +
        `grant all on *.* to '${server.user}'@'127.0.0.1' with grant option;`,
    );
    await writeFile(passwordFile, server.password + '\n', { mode: 0o600 });
    return server;
  }

  /** SQL as root over the socket; tab-separated rows without headers. */
  async rootSql(sql: string, db?: string): Promise<string> {
    const { stdout } = await execFileP(
      'mariadb',
      [
        '--no-defaults',
        '-S',
        this.socket,
        '-u',
        'root',
        '-N',
        '-B',
        ...(db ? [db] : []),
        '-e',
        sql,
      ],
      { maxBuffer: 64 << 20 },
    );
    return stdout.trim();
  }

  /** holdfast mysql connection flags: TCP on loopback with the tool's user. */
  connectionArgs(): string[] {
    return [
      '-h',
      '127.0.0.1',
      '-P',
      String(this.port),
      '-u',
      this.user,
      '--db-password-file',
      this.passwordFile,
    ];
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}
