/**
 * Builds the AWS SDK client for a store. Settings that matter:
 * - the SDK's own retries are off (maxAttempts 1): RetryingStore retries every backend alike, and
 *   two retry layers would multiply attempts;
 * - request checksums only when required: Ceph RGW rejects streamed uploads that carry the SDK's
 *   default trailing checksums (HTTP 411), and our objects are verified by their names anyway;
 * - path-style requests for custom endpoints, so bucket names need no DNS;
 * - keep-alive agents sized to the store's connection limit, with extra CAs for `--cacert`;
 * - a logger that drops the SDK's messages: holdfast reports every failure itself (s3-errors.ts),
 *   and without one the SDK writes some warnings (a failed streamed upload) to the console.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { S3Client } from '@aws-sdk/client-s3';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3ClientSettings {
  /** Undefined for AWS's own endpoints. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Undefined: the SDK's default chain (environment, shared config and credentials files, SSO, IMDS). */
  readonly credentials: S3Credentials | undefined;
  /** A named profile of the shared AWS config files. */
  readonly profile: string | undefined;
  /** PEM certificates trusted in addition to the system's (private CAs). */
  readonly caCertificates: string | undefined;
  readonly connections: number;
  /** A request with no socket activity for this long fails (transient). */
  readonly requestTimeoutMs: number;
}

const ignore = (): void => undefined;
const SILENT = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

export function createS3Client(settings: S3ClientSettings): {
  client: S3Client;
  destroy(): void;
} {
  const agentOptions = { keepAlive: true, maxSockets: settings.connections };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent({
    ...agentOptions,
    ...(settings.caCertificates !== undefined && {
      ca: [...rootCertificates, settings.caCertificates],
    }),
  });
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint !== undefined && { endpoint: settings.endpoint, forcePathStyle: true }),
    ...(settings.credentials && { credentials: settings.credentials }),
    ...(settings.profile !== undefined && { profile: settings.profile }),
    maxAttempts: 1,
    logger: SILENT,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      httpAgent,
      httpsAgent,
      requestTimeout: settings.requestTimeoutMs,
      connectionTimeout: 10_000,
    },
  });
  return {
    client,
    destroy: () => {
      client.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
