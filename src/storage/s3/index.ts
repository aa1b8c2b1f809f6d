/**
 * s3: the ObjectStore in an S3-compatible bucket (AWS SDK v3). A location `s3:...` names a
 * bucket and a key prefix (s3-location.ts); keys follow the local layout (s3-keys.ts). Object
 * lock is the store's `retention` capability (s3-retention.ts). See docs/backends.md, "S3", and
 * docs/design/repository-format.md, "Object lock".
 */
export { S3Store, type S3StoreOptions } from './s3-store.js';
export { parseS3Location, type S3Location } from './s3-location.js';
export type { S3Credentials } from './s3-client.js';
