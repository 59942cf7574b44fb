import { OWNER, ownerAlive, type Db } from '../db/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/index.js';
import { GENESIS, chainHash, type ChainKey } from './chain.js';
import { auditArgs } from './redact.js';
import { SELECT_ROW, type AuditRow, type AuditStatus } from './row.js';

export interface AuditOptions {
  maxArgsBytes: number;
  onFailure: 'refuse' | 'allow';
  key: ChainKey;
  log: Logger;
  now?: () => number;
}

/** What is known when a call starts. */
export interface AuditStart {
  agent: string;
  session?: string | null;
  client?: string | null;
  transport: string;
  origin?: 'agent' | 'upstream';
  method: string;
  server?: string | null;
  name?: string | null;
  exposedName?: string | null;
  decision?: string | null;
  args?: unknown;
}

/** What is known when it ends. */
export interface AuditOutcome {
  status: Exclude<AuditStatus, 'pending'>;
  error?: string | null;
  responseBytes?: number | null;
  result?: string | null;
  model?: string | null;
  provider?: string | null;
  attempts?: string | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  costUsd?: number | null;
}

type Op =
  | { kind: 'begin'; row: AuditRow; resolve: (call: AuditCall | undefined) => void; reject: (error: Error) => void }
  | { kind: 'finish'; row: AuditRow }
  | { kind: 'record'; row: AuditRow };

/**
 * How long an outcome or a refusal may wait for a start to share its commit. A start
 * commits on the next turn (the call waits for it); the outcome of the call before it
 * rides along, so at one call in flight each call costs one commit instead of two.
 */
const LAZY_COMMIT_MS = 10;

/** Outcomes kept for a later commit after a failed one, at most. */
const MAX_RETRY_OPS = 10_000;

/** One audited call in flight. `end` records its outcome; it never throws. */
export class AuditCall {
  private ended = false;
  constructor(
    private readonly log: AuditLog,
    readonly row: AuditRow,
    private readonly started: number,
  ) {}

  get id(): number {
    return this.row.id;
  }

  end(outcome: AuditOutcome): void {
    if (this.ended) return;
    this.ended = true;
    Object.assign(this.row, blankOutcome(), outcome, {
      latencyMs: Math.round((performance.now() - this.started) * 1000) / 1000,
    });
    this.log.enqueue({ kind: 'finish', row: this.row });
  }
}

function blankOutcome(): Partial<AuditRow> {
  return {
    error: null,
    responseBytes: null,
    result: null,
    model: null,
    provider: null,
    attempts: null,
    inputTokens: null,
    outputTokens: null,
    costUsd: null,
  };
}

/**
 * The audit log's writer. `start` resolves only once the call's row is committed, so
 * nothing is forwarded unaudited. Rows that arrive in the same turn of the event loop
 * share one transaction (group commit): durability costs one commit per turn, not
 * one per call. Outcomes and refusals, which nothing waits for, are durable within
 * `LAZY_COMMIT_MS` (sooner when a start commits first); a process killed in that window
 * leaves the row `interrupted`. Finishing a row links it into the hash chain in the
 * same transaction.
 * If the database cannot be written, calls are refused (`onFailure: "refuse"`, the
 * default) or go ahead unaudited with an error logged (`"allow"`).
 */
export class AuditLog {
  private queue: Op[] = [];
  private scheduled = false;
  private lazyTimer: NodeJS.Timeout | undefined;
  /** The chain's key kind is in audit_meta (written by this process's first link). */
  private chainRecorded = false;
  private readonly now: () => number;
  private readonly insert;
  private readonly finish;
  private readonly readMeta;
  private readonly writeMeta;
  private readonly commit;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly options: AuditOptions,
  ) {
    this.now = options.now ?? Date.now;
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
    this.readMeta = db.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck();
    this.writeMeta = db.prepare(
      'INSERT INTO audit_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.commit = db.transaction((ops: Op[]) => this.apply(ops));
  }

  private newRow(start: AuditStart, status: AuditStatus): AuditRow {
    const ms = this.now();
    const stored = start.args === undefined ? undefined : auditArgs(start.args, this.options.maxArgsBytes);
    return {
      id: 0,
      ts: new Date(ms).toISOString(),
      agent: start.agent,
      session: start.session ?? null,
      client: start.client ?? null,
      transport: start.transport,
      origin: start.origin ?? 'agent',
      method: start.method,
      server: start.server ?? null,
      name: start.name ?? null,
      exposedName: start.exposedName ?? null,
      status,
      error: null,
      decision: start.decision ?? null,
      latencyMs: null,
      argsHash: stored?.argsHash ?? null,
      args: stored?.args ?? null,
      requestBytes: stored?.requestBytes ?? null,
      ...blankOutcome(),
    } as AuditRow;
  }

  /** Records that a call starts; resolves once the row is durable. */
  start(start: AuditStart): Promise<AuditCall | undefined> {
    const row = this.newRow(start, 'pending');
    const started = performance.now();
    return new Promise((resolve, reject) => {
      this.enqueue({
        kind: 'begin',
        row,
        resolve: (call) => resolve(call && new AuditCall(this, row, started)),
        reject,
      });
    });
  }

  /** Records a call that was refused before it went anywhere (denied, quota, approval). */
  refused(start: AuditStart, outcome: AuditOutcome): void {
    this.record(start, outcome, 0);
  }

  /** Records a finished exchange in one row (a request an upstream sent to a client). */
  record(start: AuditStart, outcome: AuditOutcome, latencyMs: number): void {
    const row = Object.assign(this.newRow(start, outcome.status), blankOutcome(), outcome, { latencyMs });
    this.enqueue({ kind: 'record', row });
  }

  enqueue(op: Op): void {
    this.queue.push(op);
    if (this.scheduled) return;
    if (op.kind !== 'begin') {
      this.lazyTimer ??= setTimeout(() => this.flush(), LAZY_COMMIT_MS);
      return;
    }
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Commits everything queued, in one transaction. */
  flush(): void {
    this.scheduled = false;
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    const ops = this.queue;
    if (ops.length === 0) return;
    this.queue = [];
    try {
      this.commit.immediate(ops);
      this.failures = 0;
      this.chainRecorded ||= ops.some((op) => op.kind !== 'begin');
    } catch (error) {
      this.failed(ops, error);
      return;
    }
    for (const op of ops) if (op.kind === 'begin') op.resolve(new AuditCall(this, op.row, 0));
  }

  private failed(ops: Op[], error: unknown): void {
    const reason = errorMessage(error);
    if (this.failures++ % 100 === 0) this.options.log.error('cannot write the audit log', { error: reason });
    // Outcomes and refusals are kept and written with a later commit (bounded): only
    // starts, which must be durable before a call goes ahead, fail now.
    const later = ops.filter((op) => op.kind !== 'begin');
    if (later.length > 0 && this.queue.length < MAX_RETRY_OPS) {
      this.queue.unshift(...later);
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.flush();
        }, 1_000);
        this.retryTimer.unref();
      }
    }
    for (const op of ops) {
      if (op.kind !== 'begin') continue;
      if (this.options.onFailure === 'allow') op.resolve(undefined);
      else {
        op.reject(
          new GatewayError(
            'upstream_unavailable',
            `the audit log cannot be written (${reason}), so calls are refused (gateway.audit.onFailure: "refuse")`,
          ),
        );
      }
    }
  }

  private apply(ops: Op[]): void {
    // SQLite stores UTF-8: a lone surrogate would read back changed and break the hash.
    for (const op of ops) wellFormed(op.row);
    let head: { seq: number; hash: string } | undefined;
    const link = (row: AuditRow) => {
      head ??= {
        seq: Number(this.readMeta.get('head_seq') ?? 0),
        hash: String(this.readMeta.get('head_hash') ?? GENESIS),
      };
      const seq = head.seq + 1;
      const hash = chainHash(this.options.key, head.hash, row);
      this.finish.run({ ...row, chainSeq: seq, prevHash: head.hash, hash });
      head = { seq, hash };
    };
    for (const op of ops) {
      if (op.kind === 'begin') {
        op.row.id = Number(this.insert.run({ ...op.row, tsMs: Date.parse(op.row.ts), owner: OWNER }).lastInsertRowid);
      } else if (op.kind === 'finish') {
        link(op.row);
      } else {
        op.row.id = Number(this.insert.run({ ...op.row, tsMs: Date.parse(op.row.ts), owner: null }).lastInsertRowid);
        link(op.row);
      }
    }
    if (head) {
      this.writeMeta.run('head_seq', String(head.seq));
      this.writeMeta.run('head_hash', head.hash);
      if (!this.chainRecorded) this.writeMeta.run('chain', this.options.key.kind);
    }
  }

  /**
   * Marks rows left pending by a gateway process that is gone (killed mid-call) as
   * `interrupted`, and links them into the chain. Rows of live processes sharing the
   * database are left alone.
   */
  recoverInterrupted(): number {
    const pending = this.db
      .prepare(`SELECT ${SELECT_ROW}, owner FROM audit WHERE status = 'pending'`)
      .all() as (AuditRow & { owner: string | null })[];
    const orphans = pending.filter((row) => !ownerAlive(row.owner));
    if (orphans.length === 0) return 0;
    const ops: Op[] = orphans.map(({ owner: _owner, ...row }) => ({
      kind: 'finish',
      row: { ...row, status: 'interrupted', error: 'the gateway stopped before the call ended' },
    }));
    this.commit.immediate(ops);
    return orphans.length;
  }

  /**
   * Deletes finished rows older than `days`, oldest first in chain order, and records
   * the hash the remaining chain starts from, so `verify` still checks what is left.
   */
  prune(days: number): number {
    const cutoff = this.now() - days * 86_400_000;
    return this.db
      .transaction(() => {
        const firstKept = this.db
          .prepare('SELECT MIN(chain_seq) FROM audit WHERE chain_seq IS NOT NULL AND ts_ms >= ?')
          .pluck()
          .get(cutoff) as number | null;
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

  /** Writes whatever is queued, now. */
  close(): void {
    this.flush();
  }

  get pendingOps(): number {
    return this.queue.length;
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
