import { GatewayError } from '../errors.js';

/**
 * Opaque cursors over the merged lists: base64url of the offset. The catalog is served
 * whole from memory, so paging is slicing; a cursor from an older catalog still yields
 * a valid page of the current one.
 */
export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const offset = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  // Buffer.from skips characters outside the alphabet, so a cursor is valid only if it round-trips.
  if (!Number.isSafeInteger(offset) || offset < 0 || encodeCursor(offset) !== cursor) {
    throw new GatewayError('invalid_params', `invalid cursor: ${cursor}`);
  }
  return offset;
}

function encodeCursor(offset: number): string {
  return Buffer.from(String(offset)).toString('base64url');
}

export function paginate<T>(
  items: readonly T[],
  cursor: string | undefined,
  pageSize: number,
): { items: T[]; nextCursor?: string } {
  const offset = decodeCursor(cursor);
  const end = offset + pageSize;
  const page = items.slice(offset, end);
  return end < items.length ? { items: page, nextCursor: encodeCursor(end) } : { items: page };
}
