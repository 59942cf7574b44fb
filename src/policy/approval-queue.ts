import type { Db } from '../db/index.js';
import { OWNER, ownerAlive } from '../db/index.js';
import { GatewayError } from '../errors.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';

export interface ApprovalRow {
  id: number;
  createdAt: string;
  agent: string;
  session: string | null;
  transport: string;
  server: string | null;
  /** The exposed name (`files__write_file`). */
  tool: string;
  /** The requireApproval glob that matched. */
  rule: string;
  /** Redacted, truncated JSON of the arguments, as the audit row stores them. */
  args: string;
  status: ApprovalStatus;
  decidedAt: string | null;
  /** `client` (the agent's own elicitation), `dashboard`, `cli`, or the gateway (`timeout`, `gateway`). */
  decidedBy: string | null;
}

export interface ApprovalDecision {
  status: 'approved' | 'denied';
  by: string;
}

const SELECT = `id, created_at AS createdAt, agent, session, transport, server, tool, rule, args, status,
  decided_at AS decidedAt, decided_by AS decidedBy`;

/** This process's rows are alive (ownerAlive treats them as left over from a start). */
const alive = (owner: string | null) => owner === OWNER || ownerAlive(owner);

/** How often a waiting call looks for a decision written by another process. */
const POLL_MS = 250;

/**
 * Calls that wait for a person, in SQLite so that any process can decide them: the
 * gateway's own dashboard, `switchboard dashboard` run beside a stdio gateway, or
 * `switchboard approvals approve`. A decision made in this process wakes its waiter at
 * once; one from another process is seen on the next poll (only while someone waits).
 */
export class ApprovalQueue {
  private readonly insert;
  private readonly update;
  private readonly status;
  private readonly ownerOf;
  private readonly waiters = new Map<number, (decision: ApprovalDecision) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT INTO approvals (created_at, agent, session, transport, server, tool, rule, args, owner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.update = db.prepare(
      `UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, owner = NULL
       WHERE id = ? AND status = 'pending'`,
    );
    this.status = db.prepare('SELECT status, decided_by AS decidedBy FROM approvals WHERE id = ?');
    this.ownerOf = db.prepare("SELECT owner FROM approvals WHERE id = ? AND status = 'pending'");
  }

  /** Records a call that waits for a person; returns its id. */
  open(request: Omit<ApprovalRow, 'id' | 'createdAt' | 'status' | 'decidedAt' | 'decidedBy'>): number {
    const { agent, session, transport, server, tool, rule, args } = request;
    const now = new Date().toISOString();
    return Number(this.insert.run(now, agent, session, transport, server, tool, rule, args, OWNER).lastInsertRowid);
  }

  /**
   * Resolves with the decision on approval `id`; rejects with the signal's reason when
   * the signal aborts first (the caller then closes the row).
   */
  wait(id: number, signal: AbortSignal): Promise<ApprovalDecision> {
    return new Promise((resolve, reject) => {
      const stop = () => {
        this.waiters.delete(id);
        this.schedule();
      };
      const onAbort = () => {
        stop();
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(id, (decision) => {
        signal.removeEventListener('abort', onAbort);
        stop();
        resolve(decision);
      });
      this.schedule();
      this.check(id); // decided already (another process was fast)
    });
  }

  /**
   * Approves or denies a pending call. False when it is no longer pending (decided,
   * expired, or its call was cancelled) or does not exist.
   */
  decide(id: number, status: 'approved' | 'denied', by: string): boolean {
    // A call whose gateway died will never run: approving it would only look like it did.
    const owner = this.ownerOf.get(id) as { owner: string | null } | undefined;
    if (owner?.owner && !alive(owner.owner)) {
      this.close(id, 'expired', 'gateway');
      return false;
    }
    const changed = this.update.run(status, new Date().toISOString(), by, id).changes === 1;
    if (changed) this.waiters.get(id)?.({ status, by });
    return changed;
  }

  /**
   * Ends a row nobody decided (its call timed out or was cancelled). False when it was
   * no longer pending: someone decided first.
   */
  close(id: number, status: ApprovalStatus, by: string): boolean {
    return this.update.run(status, new Date().toISOString(), by, id).changes === 1;
  }

  get(id: number): ApprovalRow | undefined {
    return this.db.prepare(`SELECT ${SELECT} FROM approvals WHERE id = ?`).get(id) as ApprovalRow | undefined;
  }

  /** Pending calls first (oldest first), then the most recent decisions. */
  list(options: { status?: ApprovalStatus | undefined; limit?: number | undefined } = {}): ApprovalRow[] {
    this.expireAbandoned(); // a dead gateway's calls are not shown as waiting
    const limit = options.limit ?? 100;
    if (options.status) {
      return this.db
        .prepare(`SELECT ${SELECT} FROM approvals WHERE status = ? ORDER BY id DESC LIMIT ?`)
        .all(options.status, limit) as ApprovalRow[];
    }
    return this.db
      .prepare(
        `SELECT ${SELECT} FROM approvals ORDER BY status = 'pending' DESC,
           CASE WHEN status = 'pending' THEN id ELSE -id END LIMIT ?`,
      )
      .all(limit) as ApprovalRow[];
  }

  /** Decided rows older than `days` go (their arguments are kept no longer than the audit log's). */
  prune(days: number): number {
    const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
    return this.db.prepare("DELETE FROM approvals WHERE status != 'pending' AND created_at < ?").run(cutoff).changes;
  }

  /**
   * Pending rows of a gateway that died while they waited can never be answered: expire
   * them. Returns them, so that the gateway starting up can audit their calls.
   */
  expireAbandoned(): ApprovalRow[] {
    const rows = this.db
      .prepare(`SELECT ${SELECT}, owner FROM approvals WHERE status = 'pending'`)
      .all() as (ApprovalRow & {
      owner: string | null;
    })[];
    const expired: ApprovalRow[] = [];
    for (const { owner, ...row } of rows) {
      if (alive(owner) || !this.close(row.id, 'expired', 'gateway')) continue;
      expired.push({ ...row, status: 'expired', decidedBy: 'gateway' });
    }
    return expired;
  }

  private check(id: number): void {
    const row = this.status.get(id) as { status: ApprovalStatus; decidedBy: string | null } | undefined;
    if (!row) {
      this.waiters.delete(id);
      throw new GatewayError('not_found', `approval ${id} does not exist`);
    }
    if (row.status === 'approved' || row.status === 'denied') {
      this.waiters.get(id)?.({ status: row.status, by: row.decidedBy ?? 'unknown' });
    } else if (row.status !== 'pending') {
      // Closed by someone else (expired by another gateway): nobody will approve it now.
      this.waiters.get(id)?.({ status: 'denied', by: row.decidedBy ?? row.status });
    }
  }

  /** The poll runs only while at least one call waits. */
  private schedule(): void {
    if (this.waiters.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    this.timer ??= setInterval(() => {
      for (const id of [...this.waiters.keys()]) {
        try {
          this.check(id);
        } catch {
          // the row vanished (retention, a manual delete): its waiter times out instead
        }
      }
    }, POLL_MS).unref();
  }
}
