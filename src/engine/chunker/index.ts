/**
 * chunker: splits a byte stream into Blobs at content-defined boundaries (FastCDC with a gear
 * table keyed by the repository's chunker key), so that an edit moves only the boundaries near
 * it and unchanged data deduplicates. Boundaries are part of the repository format; see
 * docs/adr/0001-chunker.md and the Chunking section of docs/design/repository-format.md.
 */
export { Chunker, chunkLengths } from './chunker.js';
export {
  DEFAULT_CHUNKER_PARAMS,
  validateChunkerParams,
  type ChunkerParams,
} from './chunker-params.js';
export { cutRuleOf } from './cut-finder.js';
export { CHUNKER_KEY_LENGTH, gearTableFromKey } from './gear-table.js';
