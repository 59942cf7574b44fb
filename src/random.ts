import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids made per call (a multi-round call's state, trace and span ids),
 * from the system's CSPRNG as `randomBytes` gives them, but drawn from a pool filled 4 KB
 * at a time: `randomBytes(16)` is one `getrandom(2)` per call (~4.8 µs here), a slice of
 * the pool ~0.1 µs. The same trade Node makes for `randomUUID()`. Each byte is handed
 * out once.
 */
const POOL = Buffer.allocUnsafe(4096);
let used = POOL.length;

export function randomId(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (bytes > POOL.length) throw new RangeError(`randomId: at most ${POOL.length} bytes`);
  if (used + bytes > POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  const id = POOL.toString(encoding, used, used + bytes);
  used += bytes;
  return id;
}
