/** The two kinds of blob: file contents (data) and directory listings (tree). */
export type BlobType = 'data' | 'tree';

export const BLOB_TYPE_CODES: Record<BlobType, number> = { data: 0, tree: 1 };

export function blobTypeFromCode(code: number): BlobType | undefined {
  return code === 0 ? 'data' : code === 1 ? 'tree' : undefined;
}
