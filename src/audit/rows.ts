import { OWNER, ownerAlive, type Db } from '../db/index.js';
import { GENESIS, chainHash, type ChainKey } from './chain.js';
import type { LeftJournal } from './journal.js';
import { SELECT_ROW, type AuditRow } from './row.js';
import type { AuditCall } from './writer.js';

/**
 * A call's start. `queued` until a commit writes it as a pending row (`written`); a call
 * that ends before that is written once, finished, by a `record` op (`superseded`).
 * Without a journal the call waits for the commit (`resolve`/`reject`).
 */
export interface BeginOp {
  kind: 'begin';
  row: AuditRow;
  state: 'queued' | 'written' | 'superseded';
  resolve?: (call: AuditCall | undefined) => void;
  reject?: (error: Error) => void;
}

/** `started`: the record of a call whose start was journaled (never dropped: the call went ahead). */
export type Op = BeginOp | { kind: 'finish'; row: AuditRow } | { kind: 'record'; row: AuditRow; started?: true };

/** A journal's last entry a commit covers (`audit_meta`, in the same transaction). */
export interface JournalMark {
  key: string;
  seq: number;
}

export const INTERRUPTED = 'the gateway stopped before the call ended';

/**
 * The audit tables' side of the writer: the statements, and the transactions that write
 * a batch of ops in order, linking each finished row into the hash chain (whose head is
 * kept in `audit_meta`, so that every process sharing the database continues it). The
 * writer (writer.ts) decides when and what; this writes it.
 */
export class AuditRows {
  /** The chain's key kind is in audit_meta (written by this process's first link). */
  private chainRecorded = false;
  private readonly insert;
  private readonly finish;
  private readonly insertFinished;
  private readonly maxId;
  private readonly readMeta;
  private readonly writeMeta;
  private readonly tx;

  constructor(
    private readonly db: Db,
    private readonly key: ChainKey,
  ) {
    this.insert = db.prepare(
      `INSERT INTO audit (ts, ts_ms, agent, session, client, transport, origin, method, server, name, exposed_name,
         status, decision, args_hash, args, request_bytes, owner)
       VALUES (@ts, @tsMs, @agent, @session, @client, @transport, @origin, @method, @server, @name, @exposedName,
         @status, @decision, @argsHash, @args, @requestBytes, @owner)`,
    );
    this.finish = db.prepare(
      `UPDATE audit SET status = @status, error = @error, latency_ms = @latencyMs, response_bytes = @responseBytes,
         result = @result, model = @model, provider = @provider, attempts = @attempts, input_tokens = @inputTokens,
         output_tokens = @outputTokens, cost_usd = @costUsd, owner = NULL,
         chain_seq = @chainSeq, prev_hash = @prevHash, hash = @hash
       WHERE id = @id`,
    );
    this.insertFinished = db.prepare(
      `INSERT INTO audit (id, ts, ts_ms, agent, session, client, transport, origin, method, server, name, exposed_name,
         status, decision, args_hash, args, request_bytes, error, latency_ms, response_bytes, result, model, provider,
         attempts, input_tokens, output_tokens, cost_usd, owner, chain_seq, prev_hash, hash)
       VALUES (${Array(27).fill('?').join(', ')}, NULL, ?, ?, ?)`,
    );
    this.maxId = db.prepare('SELECT MAX(id) FROM audit').pluck();
    this.readMeta = db.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck();
    this.writeMeta = db.prepare(
      'INSERT INTO audit_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.tx = db.transaction((ops: Op[], mark: JournalMark | undefined) => this.apply(ops, mark));
  }

  /** Writes `ops` in one transaction (BEGIN IMMEDIATE); throws when the database refuses. */
  commit(ops: Op[], mark?: JournalMark): void {
    this.tx.immediate(ops, mark);
    this.chainRecorded ||= ops.some((op) => op.kind !== 'begin');
  }

  /**
   * A dead process's journal: the entries after its mark become `interrupted` rows, and
   * the mark moves past them in the same transaction, so that two gateways starting at
   * once do not both write them. Returns how many were written.
   */
  recoverJournal(left: LeftJournal): number {
    return this.db
      .transaction(() => {
        const done = Number(this.readMeta.get(left.metaKey) ?? 0);
        const ops: Op[] = left.entries
          .filter((entry) => entry.seq > done)
          .map(({ row }) => ({ kind: 'record', row: { ...row, status: 'interrupted', error: INTERRUPTED } }));
        const last = left.entries.at(-1)?.seq ?? 0;
        this.apply(ops, last > done ? { key: left.metaKey, seq: last } : undefined);
        return ops.length;
      })
      .immediate();
  }

  /** Pending rows whose owner process is gone become `interrupted`, linked into the chain. */
  recoverPending(): number {
    const pending = this.db
      .prepare(`SELECT ${SELECT_ROW}, owner FROM audit WHERE status = 'pending'`)
      .all() as (AuditRow & { owner: string | null })[];
    const orphans = pending.filter((row) => !ownerAlive(row.owner));
    if (orphans.length === 0) return 0;
    this.commit(
      orphans.map(({ owner: _owner, ...row }) => ({
        kind: 'finish',
        row: { ...row, status: 'interrupted', error: INTERRUPTED },
      })),
    );
    return orphans.length;
  }

  /**
   * Deletes finished rows older than `cutoffMs`, oldest first in chain order, and records
   * the hash the remaining chain starts from, so `verify` still checks what is left.
   */
  prune(cutoffMs: number): number {
    return this.db
      .transaction(() => {
        const firstKept = this.db
          .prepare('SELECT MIN(chain_seq) FROM audit WHERE chain_seq IS NOT NULL AND ts_ms >= ?')
          .pluck()
          .get(cutoffMs) as number | null;
        const last = firstKept === null ? Number(this.readMeta.get('head_seq') ?? 0) : firstKept - 1;
        const anchor = this.db.prepare('SELECT hash FROM audit WHERE chain_seq = ?').pluck().get(last) as
          string | undefined;
        if (!anchor) return 0;
        const deleted = this.db.prepare('DELETE FROM audit WHERE chain_seq <= ?').run(last).changes;
        this.writeMeta.run('anchor_seq', String(last));
        this.writeMeta.run('anchor_hash', anchor);
        return deleted;
      })
      .immediate();
  }

  /** Forgets a journal's mark (its process ended cleanly: nothing of it is left to recover). */
  forgetMark(key: string): void {
    this.db.prepare('DELETE FROM audit_meta WHERE key = ?').run(key);
  }

  private apply(ops: Op[], mark: JournalMark | undefined): void {
    // SQLite stores UTF-8: a lone surrogate would read back changed and break the hash.
    for (const op of ops) wellFormed(op.row);
    let head: { seq: number; hash: string } | undefined;
    const next = (row: AuditRow) => {
      head ??= {
        seq: Number(this.readMeta.get('head_seq') ?? 0),
        hash: String(this.readMeta.get('head_hash') ?? GENESIS),
      };
      const link = { chainSeq: head.seq + 1, prevHash: head.hash, hash: chainHash(this.key, head.hash, row) };
      head = { seq: link.chainSeq, hash: link.hash };
      return link;
    };
    // A finished row is written once, with its link: its id (hashed) is chosen here, as
    // SQLite would (the largest plus one; this transaction holds the write lock).
    let nextId: number | undefined;
    for (const op of ops) {
      if (op.kind === 'begin') {
        if (op.state === 'superseded') continue;
        op.row.id = Number(this.insert.run({ ...op.row, tsMs: Date.parse(op.row.ts), owner: OWNER }).lastInsertRowid);
        nextId = op.row.id + 1;
      } else if (op.kind === 'finish') {
        this.finish.run({ ...op.row, ...next(op.row) });
      } else {
        nextId ??= Number(this.maxId.get() ?? 0) + 1;
        op.row.id = nextId++;
        // Positional: binding 30 named parameters from an object costs twice as much.
        const r = op.row;
        const link = next(r);
        this.insertFinished.run(
          r.id,
          r.ts,
          Date.parse(r.ts),
          r.agent,
          r.session,
          r.client,
          r.transport,
          r.origin,
          r.method,
          r.server,
          r.name,
          r.exposedName,
          r.status,
          r.decision,
          r.argsHash,
          r.args,
          r.requestBytes,
          r.error,
          r.latencyMs,
          r.responseBytes,
          r.result,
          r.model,
          r.provider,
          r.attempts,
          r.inputTokens,
          r.outputTokens,
          r.costUsd,
          link.chainSeq,
          link.prevHash,
          link.hash,
        );
      }
    }
    if (head) {
      this.writeMeta.run('head_seq', String(head.seq));
      this.writeMeta.run('head_hash', head.hash);
      if (!this.chainRecorded) this.writeMeta.run('chain', this.key.kind);
    }
    if (mark) this.writeMeta.run(mark.key, String(mark.seq));
  }
}

function wellFormed(row: AuditRow): void {
  // Twice per call, over every field: no arrays of entries, and no copy of a string
  // that is already well formed (nearly all of them).
  const record = row as unknown as Record<string, unknown>;
  for (const key in record) {
    const value = record[key];
    if (typeof value === 'string' && !value.isWellFormed()) record[key] = value.toWellFormed();
  }
}
