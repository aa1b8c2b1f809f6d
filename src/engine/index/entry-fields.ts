/**
 * What the master index keeps per blob (repository-format.md §17), shared by its two tables: the
 * key is the first 16 bytes of the blob id (ADR 0003), and the location is four numbers — the
 * pack's number in the PackTable, the offset and sealed length in the pack, and one word holding
 * the raw length in its low 30 bits with the blob type and compression in the top two.
 */
import type { BlobType, CompressionCode } from '../format/index.js';

export const KEY_BYTES = 16;
/** Sorted tables bucket keys by their first two bytes, which they therefore do not store. */
export const BUCKETS = 65536;
/** Bytes of a key stored after its two bucket bytes. */
export const TAIL = KEY_BYTES - 2;

const TYPE_BIT = 0x80000000;
const ZSTD_BIT = 0x40000000;
const RAW_MASK = 0x3fffffff;

export interface EntryFields {
  readonly pack: number;
  readonly offset: number;
  readonly length: number;
  readonly word: number;
}

/** Read access to a table of entries numbered 0 … count−1. */
export interface EntryTable {
  readonly count: number;
  /** The entry holding the key at `at` of `key` (an id or its 16-byte prefix), or −1. */
  find(key: Buffer, at?: number): number;
  pack(i: number): number;
  offset(i: number): number;
  length(i: number): number;
  word(i: number): number;
}

/** The raw-length word: raw length (low 30 bits kept), type and compression. */
export function encodeWord(
  rawLength: number,
  type: BlobType,
  compression: CompressionCode,
): number {
  return (
    ((rawLength & RAW_MASK) | (type === 'tree' ? TYPE_BIT : 0) | (compression ? ZSTD_BIT : 0)) >>> 0
  );
}

export function wordRawLength(word: number): number {
  return word & RAW_MASK;
}

export function wordType(word: number): BlobType {
  return word & TYPE_BIT ? 'tree' : 'data';
}

export function wordCompression(word: number): CompressionCode {
  return word & ZSTD_BIT ? 1 : 0;
}
