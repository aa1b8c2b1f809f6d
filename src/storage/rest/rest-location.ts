/**
 * `rest:` locations: `rest:http[s]://[USER:PASS@]HOST:PORT/[PREFIX/]`. The credentials are split
 * off at once and kept out of `display`, the form every message shows.
 */
import { HoldfastError } from '../../core/index.js';

export interface RestLocation {
  /** Base URL without credentials, path ending in `/`. */
  readonly url: URL;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** `rest:https://alice@host:8000/prefix/`: never the password. */
  readonly display: string;
}

/** Parses what follows `rest:`. */
export function parseRestLocation(text: string): RestLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // The text may hold a password: never echo it.
    throw usage('rest: needs a URL such as rest:https://user:pass@host:8000/');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usage(`rest: URLs are http or https, not ${url.protocol.replace(/:$/, '')}`);
  if (url.search !== '' || url.hash !== '') throw usage('rest: URLs take no query or fragment');
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  const user = username === undefined ? '' : `${encodeURIComponent(username)}@`;
  const display = `rest:${url.protocol}//${user}${url.host}${url.pathname}`;
  return { url, username, password, display };
}

function usage(message: string): HoldfastError {
  return new HoldfastError('USAGE', message, {
    hint: 'credentials can also come from HOLDFAST_REST_USERNAME and HOLDFAST_REST_PASSWORD',
  });
}
