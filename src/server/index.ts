/**
 * server: the repository server, an adapter like cli/ that serves ObjectStores over HTTP(S) to
 * `rest:` clients (storage/rest). Vocabulary: a *route* is what a request path addresses (a
 * repository, a kind's listing, an object); a *prefix* names one repository below the served
 * directory; *credentials* are users with scrypt password hashes; *append-only* refuses every
 * deletion except of locks. Protocol: docs/design/repository-server.md.
 */
export {
  RepositoryServer,
  type RepositoryServerOptions,
  type ServedStore,
  type TlsFiles,
} from './repository-server.js';
export {
  Credentials,
  credentialsLine,
  DEFAULT_SCRYPT_COST,
  type ScryptCost,
} from './credentials.js';
export { parseListenAddress, type ListenAddress } from './listen-address.js';
export { HTTP_STATUS } from './http-status.js';
export { parseRoute, type Route } from './routes.js';
