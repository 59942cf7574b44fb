import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { decodeCursor, paginate } from './paginate.js';

const items = Array.from({ length: 7 }, (_, i) => `item-${i}`);

function invalidParams(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('invalid_params');
    return error as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('paginate', () => {
  it('walks every item once, in order, following nextCursor', () => {
    const seen: string[] = [];
    const pages: number[] = [];
    let cursor: string | undefined;
    do {
      const page = paginate(items, cursor, 3);
      seen.push(...page.items);
      pages.push(page.items.length);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(items);
    expect(pages).toEqual([3, 3, 1]);
  });

  it('has no nextCursor on the last page, including an exact fit', () => {
    expect(paginate(items, undefined, 10)).toEqual({ items });
    expect(paginate(items, undefined, 7)).toEqual({ items });
    expect(paginate([], undefined, 5)).toEqual({ items: [] });
  });

  it('gives an opaque cursor that decodes to the next offset', () => {
    const first = paginate(items, undefined, 2);
    expect(first.items).toEqual(['item-0', 'item-1']);
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(first.nextCursor)).toBe(2);
  });

  it('serves a page of a shorter list from an older cursor', () => {
    const cursor = paginate(items, undefined, 5).nextCursor;
    expect(paginate(items.slice(0, 3), cursor, 5)).toEqual({ items: [] });
  });
});

describe('decodeCursor', () => {
  it('starts at 0 without a cursor', () => {
    expect(decodeCursor(undefined)).toBe(0);
  });

  it('rejects a cursor that is not a non-negative integer offset', () => {
    const encode = (s: string) => Buffer.from(s).toString('base64url');
    for (const cursor of ['abc', encode('-1'), encode('1.5'), encode('ten'), encode('9007199254740993')]) {
      const error = invalidParams(() => decodeCursor(cursor));
      expect(error.message).toBe(`invalid cursor: ${cursor}`);
    }
  });

  it('makes paginate throw invalid_params for an invalid cursor', () => {
    invalidParams(() => paginate(items, 'abc', 3));
  });

  // Buffer.from skips characters outside the alphabet: '!!!' must not restart at page one.
  it('rejects a cursor with no base64url content', () => {
    invalidParams(() => decodeCursor('!!!'));
  });
});
