/**
 * Backend settings the CLI reads from the environment and global flags, passed down as plain
 * options (layers below cli/ never read process.env): the standard AWS variables for s3:, and
 * --connections, --limit-upload, --limit-download, --storage-retries for every network backend.
 */
import { parseCount } from './count-flag.js';
import type { StoreOptions } from '../storage/index.js';
import type { Io } from './io.js';

export interface TransferFlags {
  readonly connections?: string;
  readonly limitUpload?: string;
  readonly limitDownload?: string;
  readonly storageRetries?: string;
}

/**
 * AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) when set; otherwise the SDK's
 * default chain (AWS_PROFILE, shared config and credentials files, SSO, instance roles) decides.
 * Region: AWS_REGION, then AWS_DEFAULT_REGION, else us-east-1.
 */
export function s3StoreOptions(env: Io['env']): StoreOptions {
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  const token = env.AWS_SESSION_TOKEN;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return {
    ...(id && secret
      ? {
          s3Credentials: {
            accessKeyId: id,
            secretAccessKey: secret,
            ...(token && { sessionToken: token }),
          },
        }
      : {}),
    ...(env.AWS_PROFILE && { s3Profile: env.AWS_PROFILE }),
    ...(region && { s3Region: region }),
  };
}

export function transferOptions(flags: TransferFlags): StoreOptions {
  const connections = parseCount(flags.connections, '--connections', 256);
  const up = parseCount(flags.limitUpload, '--limit-upload', 1024 * 1024 * 1024);
  const down = parseCount(flags.limitDownload, '--limit-download', 1024 * 1024 * 1024);
  // 100 retries at the 10 s cap is about a quarter of an hour: longer outages are for a scheduler.
  const retries = parseCount(flags.storageRetries, '--storage-retries', 100, 0);
  return {
    ...(connections !== undefined && { connections }),
    ...(retries !== undefined && { retries }),
    ...(up !== undefined && { uploadBytesPerSecond: up * 1024 }),
    ...(down !== undefined && { downloadBytesPerSecond: down * 1024 }),
  };
}
