import { GatewayError } from '../errors.js';

/**
 * Opaque cursors over the merged lists: base64url of the offset. The catalog is served
 * whole from memory, so paging is slicing; a cursor from an older catalog still yields
 * a valid page of the current one.
 */
export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const offset = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(offset) || offset < 0) throw new GatewayError('invalid_params', `invalid cursor: ${cursor}`);
  return offset;
}

export function paginate<T>(items: readonly T[], cursor: string | undefined, pageSize: number): { items: T[]; nextCursor?: string } {
  const offset = decodeCursor(cursor);
  const end = offset + pageSize;
  const page = items.slice(offset, end);
  return end < items.length ? { items: page, nextCursor: Buffer.from(String(end)).toString('base64url') } : { items: page };
}
