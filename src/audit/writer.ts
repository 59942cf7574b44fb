import { ownerAlive, type Db } from '../db/index.js';
import { GatewayError, errorMessage } from '../errors.js';
import type { Logger } from '../observability/index.js';
import type { ChainKey } from './chain.js';
import { AuditJournal, leftJournals, unlinkQuietly } from './journal.js';
import { auditArgs } from './redact.js';
import { blankOutcome, type AuditRow, type AuditStatus } from './row.js';
import { AuditRows, type BeginOp, type JournalMark, type Op } from './rows.js';

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
  private readonly now: () => number;
  private readonly rows: AuditRows;
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
  private closed = false;

  constructor(
    db: Db,
    private readonly options: AuditOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.rows = new AuditRows(db, options.key);
    const dir = options.journal ?? (db.memory ? false : `${db.name}.journal`);
    this.journal = dir === false ? undefined : new AuditJournal(dir);
  }

  /** The last timestamp written, reused by calls in the same millisecond (many, under load). */
  private lastTs = { ms: NaN, iso: '' };

  private newRow(start: AuditStart, status: AuditStatus): AuditRow {
    const ms = this.now();
    const stored = start.args === undefined ? undefined : auditArgs(start.args, this.options.maxArgsBytes);
    if (ms !== this.lastTs.ms) this.lastTs = { ms, iso: new Date(ms).toISOString() };
    return {
      id: 0,
      ts: this.lastTs.iso,
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
    // Shutting down: nothing new is forwarded, whatever onFailure says (it could not be recorded).
    if (this.closed) {
      return Promise.reject(
        new GatewayError('upstream_unavailable', 'the gateway is shutting down (its audit log is closed)'),
      );
    }
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
      if (this.starting.length === 1) setImmediate(this.journalStarts);
    });
  }

  /**
   * Journals the starts of this turn of the event loop in one write: the requests read
   * in one poll (a chunk of stdio frames, or one request on each of many HTTP
   * connections) cost one system call instead of one each. `setImmediate`, not a
   * microtask: microtasks run after each I/O callback, so HTTP requests read in the same
   * poll would each get their own write (measured: ~5 % of the gateway's CPU per call
   * over HTTP at 32 in flight). The immediate runs in the same turn, right after the
   * poll: no call waits for another wake-up.
   */
  private readonly journalStarts = (): void => {
    const batch = this.starting;
    if (batch.length === 0) return; // written already (close)
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
    // Every start journaled so far is queued, so this commit covers the whole journal.
    const mark: JournalMark | undefined =
      this.journal && this.journal.seq > this.journalCommitted
        ? { key: this.journal.metaKey, seq: this.journal.seq }
        : undefined;
    try {
      this.rows.commit(ops, mark);
      this.failures = 0;
    } catch (error) {
      this.failed(ops, error);
      return;
    }
    if (mark) this.journalCommitted = mark.seq;
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

  /**
   * Marks rows left pending by a gateway process that is gone (killed mid-call) as
   * `interrupted`, and links them into the chain. Rows of live processes sharing the
   * database are left alone.
   */
  recoverInterrupted(): number {
    return this.recoverJournals() + this.rows.recoverPending();
  }

  /**
   * Call starts in the journals of processes that are gone and that no commit covered
   * (the process was killed within `LAZY_COMMIT_MS` of them) become `interrupted` rows.
   */
  private recoverJournals(): number {
    if (!this.journal) return 0;
    let recovered = 0;
    for (const left of leftJournals(this.journal.dir, this.journal.name)) {
      if (left.owner === undefined || ownerAlive(left.owner)) continue;
      recovered += this.rows.recoverJournal(left);
      unlinkQuietly(left.file);
    }
    return recovered;
  }

  /** Deletes finished rows older than `days` (the chain still verifies, from an anchor). */
  prune(days: number): number {
    return this.rows.prune(this.now() - days * 86_400_000);
  }

  /** Writes whatever is queued, now. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    // Starts still waiting for this turn's journal write are written now, before the journal closes.
    if (this.starting.length > 0) this.journalStarts();
    this.flush();
    if (!this.journal) return;
    // Everything journaled is in the database: the file and its mark go. Otherwise the
    // file stays for the next gateway to recover.
    const clean = this.queue.length === 0 && this.failures === 0;
    this.journal.close(clean);
    if (clean) {
      try {
        this.rows.forgetMark(this.journal.metaKey);
      } catch {
        // a stale mark is harmless: no other process uses this journal's name
      }
    }
  }

  get pendingOps(): number {
    return this.queue.length;
  }
}
