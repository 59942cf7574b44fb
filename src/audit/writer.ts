import { OWNER, ownerAlive, type Db } from '../db/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/index.js';
import { GENESIS, chainHash, type ChainKey } from './chain.js';
import { AuditJournal, leftJournals, unlinkQuietly } from './journal.js';
import { auditArgs } from './redact.js';
import { SELECT_ROW, type AuditRow, type AuditStatus } from './row.js';

export interface AuditOptions {
  maxArgsBytes: number;
  onFailure: 'refuse' | 'allow';
  key: ChainKey;
  log: Logger;
  now?: () => number;
  /**
   * Where call starts are journaled before they are forwarded (default: `<database>.journal`
   * beside a database file; `false`, or an in-memory database, commits each start to the
   * database before the call goes ahead instead).
   */
  journal?: string | false;
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

/**
 * A call's start. `queued` until a commit writes it as a pending row (`written`); a call
 * that ends before that is written once, finished, by a `record` op (`superseded`).
 * Without a journal the call waits for the commit (`resolve`/`reject`).
 */
interface BeginOp {
  kind: 'begin';
  row: AuditRow;
  state: 'queued' | 'written' | 'superseded';
  resolve?: (call: AuditCall | undefined) => void;
  reject?: (error: Error) => void;
}

/** `started`: the record of a call whose start was journaled (never dropped: the call went ahead). */
type Op = BeginOp | { kind: 'finish'; row: AuditRow } | { kind: 'record'; row: AuditRow; started?: true };

/**
 * How long a row may wait in memory for its commit. Starts are durable in the journal
 * meanwhile; outcomes and refusals are not (a process killed in that window leaves the
 * call `interrupted`).
 */
const LAZY_COMMIT_MS = 10;

/** A queue this long commits on the next turn instead of waiting for the timer. */
const FLUSH_AT = 1024;

/** Outcomes kept for a later commit after a failed one, at most. */
const MAX_RETRY_OPS = 10_000;

/** One audited call in flight. `end` records its outcome; it never throws. */
export class AuditCall {
  private ended = false;
  constructor(
    private readonly log: AuditLog,
    readonly row: AuditRow,
    private readonly started: number,
    private readonly begin: BeginOp,
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
    if (this.begin.state === 'queued') {
      // Not in the database yet: one insert of the finished row instead of two writes.
      this.begin.state = 'superseded';
      this.log.enqueue({ kind: 'record', row: this.row, started: true });
    } else {
      this.log.enqueue({ kind: 'finish', row: this.row });
    }
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
 * The audit log's writer. `start` resolves only once the call's start is durable, so
 * nothing is forwarded unaudited: appended to this process's journal (one `write(2)`,
 * see journal.ts), or, without one, committed to the database. Rows reach the database
 * in group commits: everything queued within `LAZY_COMMIT_MS` shares one transaction,
 * and a call that ends within it is written once, finished. Finishing a row links it
 * into the hash chain in the same transaction.
 * If the database cannot be written, calls are refused (`onFailure: "refuse"`, the
 * default) or go ahead unaudited with an error logged (`"allow"`) until a commit
 * succeeds again; starts already journaled are kept and written then.
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
  private readonly insertFinished;
  private readonly maxId;
  private readonly readMeta;
  private readonly writeMeta;
  private readonly commit;
  private failures = 0;
  private journalFailures = 0;
  /** Starts waiting for this turn's journal write. */
  private starting: {
    op: BeginOp;
    started: number;
    resolve: (call: AuditCall | undefined) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private lastFailure = '';
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly journal: AuditJournal | undefined;
  /** The last journal entry a commit covered. */
  private journalCommitted = 0;

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
    this.commit = db.transaction((ops: Op[], own: boolean = true) => this.apply(ops, own));
    const dir = options.journal ?? (db.memory ? false : `${db.name}.journal`);
    this.journal = dir === false ? undefined : new AuditJournal(dir);
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

  /** Records that a call starts; resolves once its start is durable. */
  start(start: AuditStart): Promise<AuditCall | undefined> {
    const row = this.newRow(start, 'pending');
    const started = performance.now();
    const op: BeginOp = { kind: 'begin', row, state: 'queued' };
    if (!this.journal) {
      return new Promise((resolve, reject) => {
        op.resolve = (call) => resolve(call && new AuditCall(this, row, started, op));
        op.reject = reject;
        this.enqueue(op);
      });
    }
    // The database failed its last commit: no new call goes ahead on a promise to audit it.
    if (this.failures > 0) return this.unaudited(this.lastFailure);
    return new Promise((resolve, reject) => {
      this.starting.push({ op, started, resolve, reject });
      if (this.starting.length === 1) queueMicrotask(this.journalStarts);
    });
  }

  /**
   * Journals the starts of this turn's synchronous run in one write: a chunk of requests
   * read at once (32 in flight) costs one system call instead of one each. A microtask,
   * so no call waits for a turn of the event loop.
   */
  private readonly journalStarts = (): void => {
    const batch = this.starting;
    this.starting = [];
    try {
      this.journal!.append(batch.map((b) => b.op.row));
    } catch (error) {
      const reason = errorMessage(error);
      if (this.journalFailures++ % 100 === 0)
        this.options.log.error('cannot write the audit journal', { error: reason });
      for (const b of batch) this.unaudited(reason).then(b.resolve, b.reject);
      return;
    }
    for (const b of batch) {
      this.enqueue(b.op);
      b.resolve(new AuditCall(this, b.op.row, b.started, b.op));
    }
  };

  /** A call the log cannot record: refused, or let through unaudited (`onFailure`). */
  private unaudited(reason: string): Promise<undefined> {
    if (this.options.onFailure === 'allow') return Promise.resolve(undefined);
    return Promise.reject(this.refusal(reason));
  }

  private refusal(reason: string): GatewayError {
    return new GatewayError(
      'upstream_unavailable',
      `the audit log cannot be written (${reason}), so calls are refused (gateway.audit.onFailure: "refuse")`,
    );
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
    // Without a journal a start waits for its commit: that one goes on the next turn.
    if ((op.kind === 'begin' && !this.journal) || this.queue.length >= FLUSH_AT) {
      this.scheduled = true;
      setImmediate(() => this.flush());
      return;
    }
    this.lazyTimer ??= setTimeout(() => this.flush(), LAZY_COMMIT_MS);
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
    if (this.journal) {
      try {
        this.journal.committed();
      } catch (error) {
        // Harmless: the database records which entries it has, recovery skips them.
        this.options.log.debug('cannot cut the audit journal', { error: errorMessage(error) });
      }
    }
    for (const op of ops) {
      if (op.kind !== 'begin' || op.state === 'superseded') continue;
      op.state = 'written';
      op.resolve?.(new AuditCall(this, op.row, 0, op));
    }
  }

  private failed(ops: Op[], error: unknown): void {
    const reason = errorMessage(error);
    this.lastFailure = reason;
    if (this.failures++ % 100 === 0) this.options.log.error('cannot write the audit log', { error: reason });
    // Outcomes and refusals are kept and written with a later commit (bounded), and so
    // are journaled starts (their calls went ahead; while commits fail no new one does).
    // Starts waiting for their commit fail now.
    // Rows of finished exchanges and refusals keep arriving while it fails: those are
    // bounded. Starts and outcomes are bounded by the calls in flight.
    let records = 0;
    const later = ops.filter((op) =>
      op.kind === 'record' && !op.started
        ? ++records <= MAX_RETRY_OPS
        : op.kind !== 'begin' || op.resolve === undefined,
    );
    if (later.length > 0) {
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
      if (op.kind !== 'begin' || op.resolve === undefined) continue;
      if (this.options.onFailure === 'allow') op.resolve(undefined);
      else op.reject!(this.refusal(reason));
    }
  }

  /** `own`: the ops are this process's queue (recovery writes other processes' rows). */
  private apply(ops: Op[], own: boolean): void {
    // SQLite stores UTF-8: a lone surrogate would read back changed and break the hash.
    for (const op of ops) wellFormed(op.row);
    let head: { seq: number; hash: string } | undefined;
    const next = (row: AuditRow) => {
      head ??= {
        seq: Number(this.readMeta.get('head_seq') ?? 0),
        hash: String(this.readMeta.get('head_hash') ?? GENESIS),
      };
      const link = { chainSeq: head.seq + 1, prevHash: head.hash, hash: chainHash(this.options.key, head.hash, row) };
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
      if (!this.chainRecorded) this.writeMeta.run('chain', this.options.key.kind);
    }
    // Every start journaled so far is queued, so this commit covers the whole journal.
    if (own && this.journal && this.journal.seq > this.journalCommitted) {
      this.writeMeta.run(this.journal.metaKey, String(this.journal.seq));
      this.journalCommitted = this.journal.seq;
    }
  }

  /**
   * Marks rows left pending by a gateway process that is gone (killed mid-call) as
   * `interrupted`, and links them into the chain. Rows of live processes sharing the
   * database are left alone.
   */
  recoverInterrupted(): number {
    return this.recoverJournals() + this.recoverPending();
  }

  /**
   * Call starts in the journals of processes that are gone and that no commit covered
   * (the process was killed within `LAZY_COMMIT_MS` of them) become `interrupted` rows.
   * The entry a journal was recovered up to is recorded in the same transaction, so two
   * gateways starting at once do not both write them.
   */
  private recoverJournals(): number {
    if (!this.journal) return 0;
    let recovered = 0;
    for (const left of leftJournals(this.journal.dir, this.journal.name)) {
      if (left.owner === undefined || ownerAlive(left.owner)) continue;
      this.db
        .transaction(() => {
          const done = Number(this.readMeta.get(left.metaKey) ?? 0);
          const ops: Op[] = left.entries
            .filter((entry) => entry.seq > done)
            .map(({ row }) => ({ kind: 'record', row: { ...row, status: 'interrupted', error: INTERRUPTED } }));
          if (ops.length > 0) this.apply(ops, false);
          const last = left.entries.at(-1)?.seq ?? 0;
          if (last > done) this.writeMeta.run(left.metaKey, String(last));
          recovered += ops.length;
        })
        .immediate();
      unlinkQuietly(left.file);
    }
    return recovered;
  }

  private recoverPending(): number {
    const pending = this.db
      .prepare(`SELECT ${SELECT_ROW}, owner FROM audit WHERE status = 'pending'`)
      .all() as (AuditRow & { owner: string | null })[];
    const orphans = pending.filter((row) => !ownerAlive(row.owner));
    if (orphans.length === 0) return 0;
    const ops: Op[] = orphans.map(({ owner: _owner, ...row }) => ({
      kind: 'finish',
      row: { ...row, status: 'interrupted', error: INTERRUPTED },
    }));
    this.commit.immediate(ops, false);
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
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.flush();
    if (!this.journal) return;
    // Everything journaled is in the database: the file and its mark go. Otherwise the
    // file stays for the next gateway to recover.
    const clean = this.queue.length === 0 && this.failures === 0;
    this.journal.close(clean);
    if (clean) {
      try {
        this.db.prepare('DELETE FROM audit_meta WHERE key = ?').run(this.journal.metaKey);
      } catch {
        // a stale mark is harmless: no other process uses this journal's name
      }
    }
  }

  get pendingOps(): number {
    return this.queue.length;
  }
}

const INTERRUPTED = 'the gateway stopped before the call ended';

function wellFormed(row: AuditRow): void {
  // Twice per call, over every field: no arrays of entries, and no copy of a string
  // that is already well formed (nearly all of them).
  const record = row as unknown as Record<string, unknown>;
  for (const key in record) {
    const value = record[key];
    if (typeof value === 'string' && !value.isWellFormed()) record[key] = value.toWellFormed();
  }
}
