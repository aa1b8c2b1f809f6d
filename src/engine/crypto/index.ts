/**
 * crypto: the repository's cryptography. Subkeys per context, AES-256-GCM sealing, scrypt key
 * encryption keys, keyed blob ids. See docs/design/repository-format.md, "Encryption".
 */
export * from './aead.js';
export * from './blob-id-pipeline.js';
export * from './file-id-of-parts.js';
export * from './kdf.js';
export * from './keyed-hash.js';
export * from './native-crypto.js';
