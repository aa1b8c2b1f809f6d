/**
 * RestStore: an ObjectStore on a holdfast repository server (`holdfast server repo`), one HTTP
 * request per operation; the protocol is docs/design/repository-server.md. Connections are kept
 * alive and pooled (at most `connections` at once), so the restorer's parallel range reads each
 * reuse a warm connection instead of paying a TCP and TLS handshake per blob.
 *
 * Retrying is not done here: transient failures reject with STORAGE_UNAVAILABLE and openStore
 * wraps this store in the RetryingStore. Credentials go in the Authorization header only; the
 * `location` every message shows has no password.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline, Readable } from 'node:stream';
import { HoldfastError, throwIfAborted } from '../../core/index.js';
import { assertValidObjectName, describeObject, isValidObjectName } from '../object-name.js';
import {
  CONFIG_NAME,
  type ByteRange,
  type ObjectInfo,
  type ObjectBody,
  type ObjectKind,
  type ObjectStore,
  type PutOptions,
  type GetOptions,
  type ByteSink,
  type StoreCallOptions,
} from '../object-store.js';
import { bodyLength, bodyPieces, FileBody } from '../object-store.js';
import { readBodyInto, readBodyTo } from '../body-reader.js';
import { assertValidRange, objectNotFound, rangePastEnd, storeClosed } from '../store-errors.js';
import { statusError, transportError, type ServerErrorBody } from './rest-errors.js';
import { parseRestLocation } from './rest-location.js';

export interface RestStoreOptions {
  /** Overrides the user name of the URL (HOLDFAST_REST_USERNAME). */
  readonly username?: string;
  /** Overrides the password of the URL (HOLDFAST_REST_PASSWORD). */
  readonly password?: string;
  /** PEM certificates to trust besides the system's (--cacert). */
  readonly caCert?: string | Buffer;
  /** Connections open at most at once; default 8. */
  readonly connections?: number;
  /** A request with no progress for this long fails (transiently); default 60 s. */
  readonly timeoutMs?: number;
}

interface SendOptions {
  /** Sent as it is: a pack's parts are written one after another, never joined. */
  readonly body?: ObjectBody;
  readonly headers?: OutgoingHttpHeaders;
  readonly signal?: AbortSignal | undefined;
}

const ERROR_BODY_LIMIT = 64 * 1024;

export class RestStore implements ObjectStore {
  readonly location: string;
  readonly #base: URL;
  readonly #authorization: string | undefined;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  readonly #timeoutMs: number;
  #closed = false;

  /** `url` is what follows `rest:`, e.g. `https://alice:secret@backup.example:8000/host-a/`. */
  constructor(url: string, options: RestStoreOptions = {}) {
    const parsed = parseRestLocation(url);
    this.#base = parsed.url;
    const username = options.username ?? parsed.username;
    const password = options.password ?? parsed.password;
    this.location = parsed.display;
    if (options.username !== undefined && parsed.username === undefined)
      this.location = this.location.replace('//', `//${encodeURIComponent(options.username)}@`);
    this.#authorization =
      username === undefined
        ? undefined
        : `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    const agentOptions = {
      keepAlive: true,
      maxSockets: Math.max(1, options.connections ?? 8),
      maxFreeSockets: Math.max(1, options.connections ?? 8),
      // Close pooled sockets before the server's 65 s keep-alive does, so a request is never
      // sent on a connection the server is closing at that moment.
      timeout: 30_000,
    };
    const https = parsed.url.protocol === 'https:';
    this.#agent = https
      ? new HttpsAgent({
          ...agentOptions,
          ...(options.caCert !== undefined && { ca: options.caCert }),
        })
      : new HttpAgent(agentOptions);
    this.#request = https ? httpsRequest : httpRequest;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  async create(options: StoreCallOptions = {}): Promise<void> {
    const { signal } = options;
    this.#enter(signal);
    const action = 'create the repository';
    const res = await this.#send('POST', '', action, { signal });
    await this.#expect(res, [200, 201, 204], action, 'repository', signal);
  }

  async put(
    kind: ObjectKind,
    name: string,
    data: ObjectBody,
    options: PutOptions = {},
  ): Promise<void> {
    const { signal } = options;
    this.#enter(signal, kind, name);
    if (options.retention) {
      throw new HoldfastError('STORAGE_FAILED', `${this.location} does not support object lock`);
    }
    const what = describeObject(kind, name);
    const action = `put ${what}`;
    const res = await this.#send('PUT', objectPath(kind, name), action, {
      body: data,
      signal,
    });
    await this.#expect(res, [200, 201, 204], action, what, signal);
  }

  async get(
    kind: ObjectKind,
    name: string,
    range?: ByteRange,
    options: GetOptions = {},
  ): Promise<Buffer> {
    const { signal, into } = options;
    const sink = range === undefined ? options.sink : undefined;
    if (range) assertValidRange(range);
    this.#enter(signal, kind, name);
    const what = describeObject(kind, name);
    if (range?.length === 0) {
      // HTTP cannot express an empty range; the size answers whether it is inside the object.
      const info = await this.stat(kind, name, options);
      if (!info) throw objectNotFound(kind, name);
      if (range.offset > info.size) throw rangePastEnd(kind, name, range, info.size);
      return Buffer.alloc(0);
    }
    const action = `get ${what}`;
    const headers = range
      ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }
      : {};
    const res = await this.#send('GET', objectPath(kind, name), action, { headers, signal });
    if (res.statusCode !== 200 && res.statusCode !== 206)
      throw await this.#statusError(res, action, what, signal);
    const data = await this.#readBody(res, action, signal, Number.MAX_SAFE_INTEGER, into, sink);
    if (!range) return data;
    // A 200 means something between us and the server ignored the Range header.
    const part =
      res.statusCode === 200 ? data.subarray(range.offset, range.offset + range.length) : data;
    if (part.length !== range.length) {
      throw new HoldfastError(
        'INTEGRITY',
        `${this.location}: ${action}: asked for ${range.length} bytes at ${range.offset}, got ${part.length}`,
        { hint: 'the index does not match the stored object; run check' },
      );
    }
    return part;
  }

  async stat(
    kind: ObjectKind,
    name: string,
    options: StoreCallOptions = {},
  ): Promise<ObjectInfo | undefined> {
    const { signal } = options;
    this.#enter(signal, kind, name);
    const what = describeObject(kind, name);
    const action = `stat ${what}`;
    const res = await this.#send('HEAD', objectPath(kind, name), action, { signal });
    res.resume();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200)
      throw statusError(res.statusCode ?? 0, undefined, action, what, this.location);
    const size = Number(res.headers['content-length']);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new HoldfastError(
        'STORAGE_FAILED',
        `${this.location}: ${action}: no valid Content-Length`,
      );
    return { name, size };
  }

  async *list(kind: ObjectKind, options: StoreCallOptions = {}): AsyncIterable<ObjectInfo> {
    const { signal } = options;
    this.#enter(signal);
    if (kind === 'config') {
      const info = await this.stat(kind, CONFIG_NAME, options);
      if (info) yield info;
      return;
    }
    const action = `list ${kind} objects`;
    const res = await this.#send('GET', `${kind}/`, action, { signal });
    if (res.statusCode !== 200)
      throw await this.#statusError(res, action, `${kind} objects`, signal);
    let pending = '';
    let ended = false;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        pending += chunk.toString('latin1');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (line === '') continue;
          const entry = this.#listEntry(line, action);
          if (entry === 'end') ended = true;
          else if (entry && isValidObjectName(kind, entry.name)) yield entry;
        }
      }
    } catch (err) {
      throw transportError(err, action, this.location, signal);
    } finally {
      res.destroy();
    }
    if (!ended || pending !== '') {
      throw new HoldfastError(
        'STORAGE_UNAVAILABLE',
        `${this.location}: ${action}: the listing was cut short`,
      );
    }
  }

  async delete(kind: ObjectKind, name: string, options: StoreCallOptions = {}): Promise<void> {
    const { signal } = options;
    this.#enter(signal, kind, name);
    const what = describeObject(kind, name);
    const action = `delete ${what}`;
    const res = await this.#send('DELETE', objectPath(kind, name), action, { signal });
    if (res.statusCode === 404) return void res.resume();
    await this.#expect(res, [200, 204], action, what, signal);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#agent.destroy();
    return Promise.resolve();
  }

  #enter(signal: AbortSignal | undefined, kind?: ObjectKind, name?: string): void {
    if (this.#closed) throw storeClosed(this.location);
    if (kind !== undefined && name !== undefined) assertValidObjectName(kind, name);
    throwIfAborted(signal);
  }

  /** Sends a request; resolves with the response once its headers arrive. */
  #send(method: string, path: string, action: string, init: SendOptions): Promise<IncomingMessage> {
    const { body, signal } = init;
    const headers: OutgoingHttpHeaders = { ...init.headers };
    if (this.#authorization) headers.Authorization = this.#authorization;
    if (body) {
      headers['Content-Length'] = bodyLength(body);
      headers['Content-Type'] = 'application/octet-stream';
    }
    // A file is streamed a piece at a time, so the server's answer to an upload it refuses
    // outright (the object exists, no room) can arrive while the pieces are still being read,
    // and the connection it closes then fails the request instead of giving that answer. With
    // `Expect: 100-continue` the server answers first (RepositoryServer: `checkContinue`).
    const waitForContinue = body instanceof FileBody;
    if (waitForContinue) headers.Expect = '100-continue';
    return new Promise((resolve, reject) => {
      const req = this.#request(new URL(path, this.#base), {
        method,
        agent: this.#agent,
        headers,
        timeout: this.#timeoutMs,
        ...(signal && { signal }),
      });
      req.once('response', resolve);
      req.once('error', (err) => reject(transportError(err, action, this.location, signal)));
      req.once('timeout', () => {
        const seconds = Math.round(this.#timeoutMs / 1000);
        req.destroy(Object.assign(new Error(`no progress for ${seconds}s`), { code: 'ETIMEDOUT' }));
      });
      if (!waitForContinue) return writeBody(req, body);
      req.flushHeaders();
      req.once('continue', () => writeBody(req, body));
    });
  }

  /** Consumes a response that must have one of `statuses`. */
  async #expect(
    res: IncomingMessage,
    statuses: readonly number[],
    action: string,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (!statuses.includes(res.statusCode ?? 0))
      throw await this.#statusError(res, action, what, signal);
    res.resume();
  }

  async #statusError(
    res: IncomingMessage,
    action: string,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<HoldfastError> {
    let body: ServerErrorBody | undefined;
    try {
      const text = (await this.#readBody(res, action, signal, ERROR_BODY_LIMIT)).toString('utf8');
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null) body = parsed;
    } catch {
      // Not a holdfast server's JSON (a proxy's HTML page): the status alone decides.
    }
    return statusError(res.statusCode ?? 0, body, action, what, this.location);
  }

  /**
   * The response body, at most `limit` bytes (the rest is dropped with the connection). A body
   * shorter than its Content-Length fails transiently. A declared length is allocated once, so
   * a pack is not held twice while it arrives, or written into `into` when it fits there, or
   * written to `sink` (then the result is empty: GetOptions `sink`).
   */
  async #readBody(
    res: IncomingMessage,
    action: string,
    signal: AbortSignal | undefined,
    limit = Number.MAX_SAFE_INTEGER,
    into?: Uint8Array,
    sink?: ByteSink,
  ): Promise<Buffer> {
    const declared = Number(res.headers['content-length'] ?? NaN);
    const known = Number.isSafeInteger(declared) && declared >= 0 && declared <= limit;
    if (known && sink !== undefined) {
      let total: number;
      try {
        total = await readBodyTo(res, sink, declared);
      } catch (err) {
        throw transportError(err, action, this.location, signal);
      }
      if (total < declared) throw this.#cutShort(action);
      return Buffer.alloc(0);
    }
    const whole = !known
      ? undefined
      : into !== undefined && declared <= into.byteLength
        ? Buffer.from(into.buffer, into.byteOffset, declared)
        : Buffer.allocUnsafe(declared);
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      if (whole) total = await readBodyInto(res, whole);
      else
        for await (const chunk of res as AsyncIterable<Buffer>) {
          const part = chunk.length > limit - total ? chunk.subarray(0, limit - total) : chunk;
          chunks.push(part);
          total += part.length;
          if (part.length < chunk.length) {
            res.destroy();
            break;
          }
        }
    } catch (err) {
      throw transportError(err, action, this.location, signal);
    }
    if (whole) {
      if (total < whole.length) throw this.#cutShort(action);
      return whole;
    }
    return Buffer.concat(chunks, total);
  }

  /** A body shorter than its Content-Length: transient (the connection broke). */
  #cutShort(action: string): HoldfastError {
    return new HoldfastError(
      'STORAGE_UNAVAILABLE',
      `${this.location}: ${action}: the answer was cut short`,
    );
  }

  #listEntry(line: string, action: string): ObjectInfo | 'end' | undefined {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    const v = value as { name?: unknown; size?: unknown; end?: unknown } | undefined;
    if (v?.end === true) return 'end';
    if (typeof v?.name === 'string' && typeof v.size === 'number' && Number.isSafeInteger(v.size))
      return { name: v.name, size: v.size };
    throw new HoldfastError(
      'STORAGE_FAILED',
      `${this.location}: ${action}: malformed listing line`,
    );
  }
}

function objectPath(kind: ObjectKind, name: string): string {
  return kind === 'config' ? CONFIG_NAME : `${kind}/${name}`;
}

/**
 * Ends `req` with `body`. Parts are written corked, so they leave in few vectored writes, and
 * without a join: a pack is not copied into a new buffer (and that buffer collected) per upload.
 * A file (FileBody) goes through a pipeline from its pieces: a failed read destroys the
 * request, which then rejects with the read's error, and a failed request closes the file.
 */
function writeBody(req: ClientRequest, body: ObjectBody | undefined): void {
  if (body instanceof FileBody) {
    pipeline(Readable.from(bodyPieces(body), { objectMode: false }), req, (err) => {
      if (err) req.destroy(err);
    });
    return;
  }
  if (!Array.isArray(body)) {
    req.end(body as Uint8Array | undefined);
    return;
  }
  req.cork();
  for (const part of body as readonly Uint8Array[]) if (part.byteLength > 0) req.write(part);
  req.end();
}
