import { createHmac, hash } from 'node:crypto';
import { COLUMNS, type AuditRow } from './row.js';

/**
 * The hash chain that makes the log tamper-evident. Each finished row stores
 * `hash = H(prev_hash ‖ canonical row)`, where `prev_hash` is the hash of the row
 * finished before it (by `chain_seq`). Changing a row breaks its hash, deleting or
 * inserting one breaks the next row's `prev_hash`, and deleting the newest rows
 * disagrees with the chain head kept in `audit_meta`. With a key (HMAC) nobody without
 * the key can rebuild a consistent chain after an edit.
 */
export const GENESIS = '0'.repeat(64);

export type ChainKey = { kind: 'sha256' } | { kind: 'hmac'; key: string };

export function chainKeyFromEnv(env: NodeJS.ProcessEnv = process.env): ChainKey {
  const key = env.SWITCHBOARD_AUDIT_KEY;
  return key ? { kind: 'hmac', key } : { kind: 'sha256' };
}

/** The row's content as hashed: every user-visible field, in a fixed order. */
export function rowContent(row: AuditRow): string {
  return JSON.stringify(COLUMNS.map(([field]) => row[field] ?? null));
}

export function chainHash(key: ChainKey, prevHash: string, row: AuditRow): string {
  const content = rowContent(row);
  // crypto.hash is the one-shot form: no Hash object per row (it is computed on every call).
  if (key.kind === 'sha256') return hash('sha256', `${prevHash}\n${content}`, 'hex');
  return createHmac('sha256', key.key).update(prevHash).update('\n').update(content).digest('hex');
}
