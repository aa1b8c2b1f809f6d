/**
 * `holdfast server repo`: serve repositories over HTTP(S) for `rest:` clients, and
 * `holdfast server add-user`: add or change a user in a credentials file.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeError, errnoCode, HoldfastError, parseBytes } from '../../core/index.js';
import {
  credentialsLine,
  Credentials,
  parseListenAddress,
  RepositoryServer,
  type TlsFiles,
} from '../../server/index.js';
import { collect, type RegisterCommand } from '../command-kit.js';
import type { Context } from '../context.js';
import { readNewPassword } from '../password.js';

interface ServeFlags {
  path: string;
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  appendOnly?: boolean;
  privateRepos?: boolean;
  htpasswd?: string;
  user?: string[];
  auth: boolean;
  maxObjectSize: string;
  maxUploadMemory: string;
}

export const registerServer: RegisterCommand = (program, kit) => {
  const server = program.command('server').description('serve repositories to rest: clients');
  server
    .command('repo')
    .description('serve the repositories in a directory over HTTP(S) until SIGINT/SIGTERM')
    .requiredOption('--path <dir>', 'directory holding the repositories (created if missing)')
    .option('--listen <addr>', 'address to listen on: :PORT, HOST:PORT, [IPV6]:PORT', ':8000')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--append-only', 'clients may add objects but delete nothing except locks')
    .option('--private-repos', 'each user may only use repositories below /USER/')
    .option('--htpasswd <file>', 'credentials file (see "server add-user")')
    .option('--user <name:password>', 'a user, in clear text: for tests (repeatable)', collect)
    .option('--no-auth', 'accept every client without credentials (trusted networks only)')
    .option('--max-object-size <size>', 'largest object accepted', '256MiB')
    .option('--max-upload-memory <size>', 'uploads buffered at once, in bytes', '1GiB')
    .action(async (opts: ServeFlags, cmd: Command) => serve(kit.context(cmd), opts));

  server
    .command('add-user')
    .description('add a user to a credentials file, or change their password')
    .argument('<name>', 'user name')
    .requiredOption('--htpasswd <file>', 'credentials file (created with mode 0600 if missing)')
    .option('--new-password-file <file>', 'read the password from this file')
    .action(
      async (name: string, opts: { htpasswd: string; newPasswordFile?: string }, cmd: Command) => {
        const ctx = kit.context(cmd);
        const password = await readNewPassword(ctx.io, opts.newPasswordFile);
        const changed = await upsertUser(
          opts.htpasswd,
          name,
          await credentialsLine(name, password),
        );
        ctx.info(
          `${changed ? 'changed the password of' : 'added'} user ${name} in ${opts.htpasswd}`,
        );
      },
    );
};

async function serve(ctx: Context, opts: ServeFlags): Promise<void> {
  const address = parseListenAddress(opts.listen);
  const credentials = await loadCredentials(opts);
  const tls = await loadTls(opts);
  const root = resolve(opts.path);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const server = new RepositoryServer({
    root,
    ...(credentials && { credentials }),
    ...(opts.appendOnly && { appendOnly: true }),
    ...(opts.privateRepos && { privateRepos: true }),
    maxObjectBytes: size(opts.maxObjectSize, '--max-object-size'),
    uploadBudgetBytes: size(opts.maxUploadMemory, '--max-upload-memory'),
    logger: ctx.logger(),
  });
  const url = await server.listen(address, tls);
  const mode = [opts.appendOnly && 'append-only', !credentials && 'no authentication']
    .filter(Boolean)
    .join(', ');
  if (ctx.json)
    ctx.emit({ message_type: 'listening', url, path: root, append_only: opts.appendOnly === true });
  else ctx.out(`serving ${root} at ${url}${mode ? ` (${mode})` : ''}`);
  await stopped(ctx.signal);
  ctx.info('stopping: finishing requests in flight');
  await server.close();
}

/** Resolves when the signal fires (SIGINT/SIGTERM in the binary). */
function stopped(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => undefined);
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}

async function loadCredentials(opts: ServeFlags): Promise<Credentials | undefined> {
  const inline = opts.user ?? [];
  if (!opts.auth) {
    if (opts.htpasswd || inline.length > 0)
      throw new HoldfastError('USAGE', '--no-auth cannot be combined with --htpasswd or --user');
    return undefined;
  }
  let credentials = new Credentials();
  if (opts.htpasswd) credentials = Credentials.parse(await readText(opts.htpasswd), opts.htpasswd);
  for (const spec of inline) {
    const colon = spec.indexOf(':');
    if (colon <= 0) throw new HoldfastError('USAGE', '--user takes NAME:PASSWORD');
    await credentials.add(spec.slice(0, colon), spec.slice(colon + 1));
  }
  if (credentials.size === 0) {
    throw new HoldfastError('USAGE', 'the server needs credentials', {
      hint: 'give --htpasswd FILE (see "holdfast server add-user") or --user NAME:PASSWORD, or --no-auth on a trusted network',
    });
  }
  return credentials;
}

async function loadTls(opts: ServeFlags): Promise<TlsFiles | undefined> {
  if (!opts.tlsCert && !opts.tlsKey) return undefined;
  if (!opts.tlsCert || !opts.tlsKey)
    throw new HoldfastError('USAGE', '--tls-cert and --tls-key go together');
  return {
    cert: Buffer.from(await readText(opts.tlsCert)),
    key: Buffer.from(await readText(opts.tlsKey)),
  };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new HoldfastError('CONFIG_INVALID', `cannot read ${path}: ${describeError(err)}`);
  }
}

function size(text: string, what: string): number {
  const n = parseBytes(text);
  if (n === undefined || n <= 0)
    throw new HoldfastError('USAGE', `invalid size for ${what}: "${text}"`, {
      hint: 'use e.g. 256MiB or 1GiB',
    });
  return n;
}

/** Replaces `name`'s line or appends one; writes a new file and renames it over the old. */
async function upsertUser(file: string, name: string, line: string): Promise<boolean> {
  let lines: string[] = [];
  try {
    lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT')
      throw new HoldfastError('CONFIG_INVALID', `cannot read ${file}: ${describeError(err)}`);
  }
  const at = lines.findIndex((l) => l.startsWith(`${name}:`));
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  // Parsing the result catches a damaged file before it replaces a working one.
  Credentials.parse(lines.join('\n'), file);
  await mkdir(dirname(resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, lines.join('\n') + '\n', { mode: 0o600 });
  await rename(tmp, file);
  return at >= 0;
}
