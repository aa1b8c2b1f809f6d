/**
 * RepositoryServer: serves repositories stored in a directory over HTTP(S), one ObjectStore
 * operation per request (protocol in docs/design/repository-server.md). It never sees a
 * repository password and never decrypts: it stores opaque, write-once objects, checks that
 * each uploaded object's SHA-256 equals its name (every name except the config's is one), and,
 * in append-only mode, refuses every deletion except of locks.
 */
import { once } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  describeError,
  HoldfastError,
  isHoldfastError,
  MiB,
  GiB,
  silentLogger,
  type Logger,
} from '../core/index.js';
import { LocalStore, type ObjectKind, type ObjectStore } from '../storage/index.js';
import { parseRangeHeader } from './byte-range.js';
import type { Credentials } from './credentials.js';
import { HTTP_STATUS, RETRY_AFTER_SECONDS } from './http-status.js';
import { baseUrl, type ListenAddress } from './listen-address.js';
import { declaredLength, readObjectBody, UploadBudget } from './object-body.js';
import { describePrefix, parseRoute, type Route } from './routes.js';

/** A store the server can serve; LocalStore's `openStream` lets GETs stream from disk. */
export type ServedStore = ObjectStore & Partial<Pick<LocalStore, 'openStream'>>;

export interface RepositoryServerOptions {
  /** Directory holding the repository at prefix `/` and those at other prefixes below it. */
  readonly root: string;
  /** Undefined: no authentication (only for a trusted network or a test). */
  readonly credentials?: Credentials;
  /**
   * Check that every uploaded object except the config is named by the SHA-256 of its content
   * (true for every object holdfast writes); default true. Off only to run the ObjectStore
   * conformance suite, whose objects have arbitrary names.
   */
  readonly verifyNames?: boolean;
  /** Refuse deleting anything but locks; objects are write-once in any mode. */
  readonly appendOnly?: boolean;
  /** Each user may only use repositories whose prefix starts with their user name. */
  readonly privateRepos?: boolean;
  /** Largest accepted object; default 256 MiB (packs are at most 128 MiB, ADR 0004). */
  readonly maxObjectBytes?: number;
  /** PUT bodies held in memory at once; default 1 GiB. */
  readonly uploadBudgetBytes?: number;
  readonly logger?: Logger;
  /** The store for a prefix; default a LocalStore at root/prefix. */
  readonly storeFor?: (prefix: readonly string[]) => ServedStore;
}

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

const LIST_BATCH_BYTES = 64 * 1024;

export class RepositoryServer {
  readonly #options: RepositoryServerOptions;
  readonly #logger: Logger;
  readonly #stores = new Map<string, ServedStore>();
  readonly #budget: UploadBudget;
  readonly #maxObjectBytes: number;
  #server: Server | undefined;
  #closing = false;

  constructor(options: RepositoryServerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#maxObjectBytes = options.maxObjectBytes ?? 256 * MiB;
    this.#budget = new UploadBudget(
      Math.max(options.uploadBudgetBytes ?? GiB, this.#maxObjectBytes),
    );
  }

  /** Starts listening; resolves with the base URL (`rest:` + it is a repository location). */
  async listen(address: ListenAddress, tls?: TlsFiles): Promise<string> {
    if (this.#server) throw new HoldfastError('FAILURE', 'the server is already listening');
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.#serve(req, res);
    const server = tls
      ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler)
      : createHttpServer(handler);
    // A client that sends `Expect: 100-continue` (a pack streamed from a file) is answered
    // before its body is asked for: an upload refused outright (the object exists, no room) is
    // told so instead of sending its body into a connection the server closes.
    server.on('checkContinue', handler);
    // Long keep-alive so a client's pool of connections survives between bursts of requests
    // (restores issue many small range reads), and no overall request deadline: a 128 MiB pack
    // over a slow link may take minutes. Idle sockets still time out.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 70_000;
    server.requestTimeout = 0;
    server.timeout = 120_000;
    this.#server = server;
    server.listen(address.port, address.host);
    try {
      await once(server, 'listening');
    } catch (err) {
      this.#server = undefined;
      throw new HoldfastError(
        'USAGE',
        `cannot listen on ${address.host ?? '*'}:${address.port}: ${describeError(err)}`,
        {
          hint: 'choose another --listen address or port',
          cause: err,
        },
      );
    }
    const bound = server.address() as AddressInfo;
    return baseUrl(tls ? 'https' : 'http', address.host ?? bound.address, bound.port);
  }

  /**
   * Stops accepting connections, lets requests in flight finish (an upload being committed
   * completes) for up to `graceMs`, then cuts the rest. Idempotent.
   */
  async close(graceMs = 10_000): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    this.#server = undefined;
    await Promise.all([...this.#stores.values()].map((s) => s.close()));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let user: string | undefined;
    // Aborts store calls when the client goes away before its answer is complete.
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort(new Error('client went away'));
    });
    if (this.#closing) res.setHeader('Connection', 'close');
    try {
      user = await this.#authenticate(req);
      const route = parseRoute(path);
      this.#authorize(user, route);
      await this.#dispatch(req, res, route, method, gone.signal);
    } catch (err) {
      this.#fail(req, res, err, method, path);
    }
    this.#logger.debug(
      `${user ?? '-'} ${method} ${path} ${res.statusCode} ${Date.now() - started}ms`,
    );
  }

  async #dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    method: string,
    signal: AbortSignal,
  ): Promise<void> {
    const store = this.#storeFor(route.prefix);
    const options = { signal };
    switch (route.op) {
      case 'repository':
        allow(method, ['POST']);
        await store.create(options);
        return end(res, 204);
      case 'list':
        allow(method, ['GET']);
        return this.#list(res, store, route.kind, signal);
      case 'object':
        break;
    }
    const { kind, name } = route;
    allow(method, ['GET', 'HEAD', 'PUT', 'DELETE']);
    if (method === 'HEAD') {
      const info = await store.stat(kind, name, options);
      if (!info) return end(res, 404);
      res.writeHead(200, {
        'Content-Length': info.size,
        'Content-Type': 'application/octet-stream',
      });
      return void res.end();
    }
    if (method === 'GET') return this.#get(req, res, store, kind, name, signal);
    if (method === 'PUT') return this.#put(req, res, store, kind, name, signal);
    if (this.#options.appendOnly && kind !== 'lock') {
      // Locks stay removable: a lock only blocks operations, it never holds data (see the doc).
      throw new HoldfastError(
        'POLICY_VIOLATED',
        `append-only server: ${kind} objects cannot be deleted`,
        {
          hint: 'delete, prune and forget need a connection to a server without --append-only',
        },
      );
    }
    await store.delete(kind, name, options);
    end(res, 204);
  }

  async #get(
    req: IncomingMessage,
    res: ServerResponse,
    store: ServedStore,
    kind: ObjectKind,
    name: string,
    signal: AbortSignal,
  ): Promise<void> {
    const range = parseRangeHeader(req.headers.range);
    const status = range ? 206 : 200;
    const headers = (length: number, size?: number): Record<string, string | number> => ({
      'Content-Type': 'application/octet-stream',
      'Content-Length': length,
      'Accept-Ranges': 'bytes',
      ...(range &&
        length > 0 && {
          'Content-Range': `bytes ${range.offset}-${range.offset + length - 1}/${size ?? '*'}`,
        }),
    });
    if (!store.openStream) {
      const data = await store.get(kind, name, range, { signal });
      res.writeHead(status, headers(data.length, range ? undefined : data.length));
      return void res.end(data);
    }
    const { size, length, stream } = await store.openStream(kind, name, range, { signal });
    res.writeHead(status, headers(length, size));
    try {
      for await (const chunk of stream) {
        if (!res.write(chunk)) await once(res, 'drain', { signal });
      }
      res.end();
    } finally {
      stream.destroy();
    }
  }

  async #put(
    req: IncomingMessage,
    res: ServerResponse,
    store: ServedStore,
    kind: ObjectKind,
    name: string,
    signal: AbortSignal,
  ): Promise<void> {
    const length = declaredLength(req, this.#maxObjectBytes);
    // A retried upload of an object that landed: answer before receiving the body again.
    if (await store.stat(kind, name, { signal })) throw exists(kind, name);
    const release = this.#budget.reserve(length);
    try {
      if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
      const body = await readObjectBody(req, length);
      if (this.#options.verifyNames !== false && kind !== 'config' && body.sha256 !== name) {
        throw new HoldfastError(
          'USAGE',
          `${kind} ${name}: uploaded content does not match its name`,
          {
            hint: 'objects are named by the SHA-256 of their content; the upload was damaged or forged',
          },
        );
      }
      await store.put(kind, name, body.data, { signal });
    } finally {
      release();
    }
    end(res, 201);
  }

  async #list(
    res: ServerResponse,
    store: ServedStore,
    kind: ObjectKind,
    signal: AbortSignal,
  ): Promise<void> {
    // Newline-delimited JSON, streamed; the last line is the end marker, so a client can tell a
    // complete listing from one cut short by a failure after the headers went out.
    let batch = '';
    let count = 0;
    for await (const info of store.list(kind, { signal })) {
      if (count === 0 && batch === '')
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      batch += JSON.stringify({ name: info.name, size: info.size }) + '\n';
      count++;
      if (batch.length >= LIST_BATCH_BYTES) {
        const ok = res.write(batch);
        batch = '';
        if (!ok) await once(res, 'drain', { signal });
      }
    }
    if (count === 0) res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    res.end(batch + JSON.stringify({ end: true, count }) + '\n');
  }

  async #authenticate(req: IncomingMessage): Promise<string | undefined> {
    const credentials = this.#options.credentials;
    if (!credentials) return undefined;
    const header = req.headers.authorization;
    const m = header ? /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header) : null;
    if (!m) throw new HoldfastError('PASSWORD_REQUIRED', 'authentication required');
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const name = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (!(await credentials.verify(name, password)))
      throw new HoldfastError('WRONG_PASSWORD', 'user name or password not accepted');
    return name;
  }

  #authorize(user: string | undefined, route: Route): void {
    if (!this.#options.privateRepos || user === undefined) return;
    if (route.prefix[0] !== user) {
      throw new HoldfastError(
        'POLICY_VIOLATED',
        `user ${user} may not use ${describePrefix(route.prefix)}`,
        {
          hint: `with --private-repos each user's repositories live below /${user}/`,
        },
      );
    }
  }

  #storeFor(prefix: readonly string[]): ServedStore {
    const key = prefix.join('/');
    let store = this.#stores.get(key);
    if (!store) {
      store =
        this.#options.storeFor?.(prefix) ?? new LocalStore(join(this.#options.root, ...prefix));
      this.#stores.set(key, store);
    }
    return store;
  }

  #fail(
    req: IncomingMessage,
    res: ServerResponse,
    err: unknown,
    method: string,
    path: string,
  ): void {
    if (res.headersSent) {
      // Mid-stream: all the client can be told is that the answer is incomplete.
      this.#logger.warn(`${method} ${path}: ${describeError(err)}`);
      res.destroy();
      return;
    }
    if (err instanceof MethodNotAllowed) {
      res.setHeader('Allow', err.allowed.join(', '));
      return void sendJson(res, 405, { code: 'USAGE', message: err.message });
    }
    const code = isHoldfastError(err) ? err.code : 'FAILURE';
    const status = HTTP_STATUS[code];
    if (status >= 500) this.#logger.warn(`${method} ${path}: ${describeError(err)}`);
    if (status === 401)
      res.setHeader('WWW-Authenticate', 'Basic realm="holdfast", charset="UTF-8"');
    if (status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    // A request whose body we did not read cannot share its connection with the next one.
    if (!req.complete) res.setHeader('Connection', 'close');
    const hint = isHoldfastError(err) ? err.hint : undefined;
    sendJson(res, status, {
      code,
      message: this.#redact(describeError(err)),
      ...(hint && { hint }),
    });
  }

  /** Server-side paths are none of the client's business. */
  #redact(message: string): string {
    return message.split(this.#options.root).join('<served directory>');
  }
}

class MethodNotAllowed extends Error {
  constructor(
    readonly method: string,
    readonly allowed: readonly string[],
  ) {
    super(`method ${method} not allowed here`);
  }
}

function allow(method: string, allowed: readonly string[]): void {
  if (!allowed.includes(method)) throw new MethodNotAllowed(method, allowed);
}

function exists(kind: ObjectKind, name: string): HoldfastError {
  const what = kind === 'config' ? 'config' : `${kind} ${name}`;
  return new HoldfastError('OBJECT_EXISTS', `${what} already exists`, {
    hint: 'objects are write-once; an existing object is never replaced',
  });
}

function end(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
