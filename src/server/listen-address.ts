/** `--listen` addresses: `:8000` (every interface), `HOST:PORT`, `[IPV6]:PORT`; port 0 picks one. */
import { HoldfastError } from '../core/index.js';

export interface ListenAddress {
  /** Undefined: every interface. */
  readonly host: string | undefined;
  readonly port: number;
}

export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new HoldfastError('USAGE', `invalid listen address "${text}"`, {
      hint: 'use :8000, 127.0.0.1:8000 or [::1]:8000 (port 0 picks a free port)',
    });
  }
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/** The URL clients use for a bound address ("rest:" + this is a repository location). */
export function baseUrl(protocol: 'http' | 'https', host: string, port: number): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return `${protocol}://${shown}:${port}/`;
}
