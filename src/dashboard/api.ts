import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  FINAL_STATUSES,
  auditDupes,
  auditStats,
  parseTime,
  queryAudit,
  type AuditFilter,
  type StatsKey,
} from '../audit/index.js';
import type { PinStore } from '../catalog/index.js';
import type { Db } from '../db/index.js';
import { errorMessage } from '../errors.js';
import type { ApprovalQueue, ApprovalStatus } from '../policy/index.js';
import { parseRate } from '../policy/index.js';

/** What the dashboard reads and may change. */
export interface DashboardSources {
  db: Db;
  pins: PinStore;
  approvals: ApprovalQueue;
  /** Live upstream health; absent for `switchboard dashboard`, which only has the database. */
  upstreams?: () => unknown;
  /** Whether this gateway writes audit rows (the page says so when it does not). */
  auditing: boolean;
  version: string;
}

export interface DashboardAccess {
  /**
   * Every API request needs it: `SWITCHBOARD_ADMIN_TOKEN`, or one made up at start on a
   * loopback bind and printed in the dashboard's address. Without it, anything that can
   * reach the port (an agent with a shell, another user of the machine, a reverse proxy's
   * clients) could read every agent's arguments and approve its own waiting calls.
   */
  adminToken: string;
}

const STATS_KEYS: readonly StatsKey[] = ['agent', 'server', 'tool', 'status', 'model'];
const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];

class BadRequest extends Error {}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(req: Request): string | undefined {
  return req.headers.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

function query(req: Request, key: string): string | undefined {
  const value = req.query[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function time(req: Request, key: string): number | undefined {
  const text = query(req, key);
  if (text === undefined) return undefined;
  const at = parseTime(text);
  if (at === undefined) throw new BadRequest(`${key}: expected 30m, 1h, 2d or an ISO time, got "${text}"`);
  return at;
}

function int(req: Request, key: string, fallback: number, max: number): number {
  const text = query(req, key);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new BadRequest(`${key}: expected a whole number ≥ 1, got "${text}"`);
  return Math.min(n, max);
}

function filter(req: Request): AuditFilter {
  return {
    agent: query(req, 'agent'),
    server: query(req, 'server'),
    tool: query(req, 'tool'),
    status: query(req, 'status'),
    since: time(req, 'since'),
    until: time(req, 'until'),
    limit: int(req, 'limit', 200, 1000),
  };
}

/**
 * Calls and errors per time bucket, for the stats page's chart: `buckets` equal slices
 * from `since` to now.
 */
function timeline(db: Db, since: number, buckets: number) {
  const now = Date.now();
  const width = Math.max(1000, Math.ceil((now - since) / buckets));
  const rows = db
    .prepare(
      // CAST: bound numbers are REAL in SQLite, and buckets must be whole numbers.
      `SELECT CAST((ts_ms - ?) / ? AS INTEGER) AS bucket, COUNT(*) AS calls,
              SUM(status NOT IN ('ok', 'pending')) AS errors, SUM(COALESCE(cost_usd, 0)) AS costUsd
       FROM audit WHERE ts_ms >= ? GROUP BY bucket ORDER BY bucket`,
    )
    .all(since, width, since) as { bucket: number; calls: number; errors: number; costUsd: number }[];
  const byBucket = new Map(rows.map((r) => [r.bucket, r]));
  return Array.from({ length: buckets }, (_, i) => {
    const row = byBucket.get(i);
    return {
      start: new Date(since + i * width).toISOString(),
      calls: row?.calls ?? 0,
      errors: row?.errors ?? 0,
      costUsd: row ? Math.round(row.costUsd * 1e6) / 1e6 : 0,
    };
  });
}

/** Agents, servers and tools seen in the newest rows: the choices of the filters. */
function facets(db: Db) {
  const recent = (column: string) =>
    db
      .prepare(
        `SELECT DISTINCT ${column} AS v FROM (SELECT ${column} FROM audit ORDER BY id DESC LIMIT 20000)
         WHERE ${column} IS NOT NULL ORDER BY v`,
      )
      .pluck()
      .all() as string[];
  return { agents: recent('agent'), servers: recent('server'), tools: recent('exposed_name') };
}

/**
 * The dashboard's JSON API under `/api`. Everything is a read of the database (and of
 * the live upstreams when the gateway serves the page itself), except two decisions:
 * approving or denying a waiting call, and approving a changed tool definition.
 */
export function dashboardApi(sources: DashboardSources, access: DashboardAccess): express.Router {
  const api = express.Router();
  const { db, pins, approvals } = sources;

  // Every request needs the admin token. (Foreign origins and hosts were already refused
  // by the origin guard; decisions also need a JSON body, which a cross-site form cannot send.)
  api.use((req: Request, res: Response, next: NextFunction) => {
    const token = bearer(req);
    if (token !== undefined && sameToken(token, access.adminToken)) return next();
    res.status(401).set('www-authenticate', 'Bearer realm="switchboard-dashboard"').json({
      error:
        'the dashboard needs its admin token: SWITCHBOARD_ADMIN_TOKEN, or the one in the address the gateway printed',
    });
  });
  const json = express.json({ limit: '16kb' });
  const decision = (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('application/json')) {
      res.status(415).json({ error: 'send a JSON body (content-type: application/json)' });
      return;
    }
    json(req, res, next);
  };

  api.get('/info', (_req, res) => {
    res.json({
      version: sources.version,
      live: sources.upstreams !== undefined,
      auditing: sources.auditing,
      statuses: ['pending', ...FINAL_STATUSES],
      file: db.name,
    });
  });

  api.get('/calls', (req, res) => {
    res.json({ rows: queryAudit(db, filter(req)) });
  });
  api.get('/calls/:id', (req, res) => {
    const id = Number(req.params.id);
    const [row] = Number.isInteger(id) ? queryAudit(db, { afterId: id - 1, limit: 1 }) : [];
    if (!row || row.id !== id) return void res.status(404).json({ error: `no audit row ${req.params.id}` });
    res.json(row);
  });
  api.get('/facets', (_req, res) => {
    res.json(facets(db));
  });

  api.get('/stats', (req, res) => {
    const by = (query(req, 'by') ?? 'tool') as StatsKey;
    if (!STATS_KEYS.includes(by)) throw new BadRequest(`by: expected one of ${STATS_KEYS.join(', ')}`);
    // Without a period: all time, which starts at the oldest row.
    const oldest = db.prepare('SELECT MIN(ts_ms) FROM audit').pluck().get() as number | null;
    const since = time(req, 'since') ?? oldest ?? Date.now() - 3_600_000;
    res.json({
      by,
      since: new Date(since).toISOString(),
      rows: auditStats(db, by, { ...filter(req), since, limit: undefined }),
      timeline: query(req, 'timeline') === '0' ? [] : timeline(db, since, int(req, 'buckets', 30, 200)),
    });
  });

  api.get('/dupes', (req, res) => {
    const window = query(req, 'window') ?? '10s';
    const windowMs = parseRate(`1/${window}`)?.windowMs;
    if (windowMs === undefined) throw new BadRequest(`window: expected a duration such as 10s or 5m, got "${window}"`);
    res.json({ windowMs, groups: auditDupes(db, windowMs, { ...filter(req), limit: undefined }).slice(0, 200) });
  });

  api.get('/upstreams', (_req, res) => {
    res.json({ live: sources.upstreams?.() ?? null, pins: pins.pending() });
  });
  api.post('/pins/approve', decision, (req, res) => {
    const name = (req.body as { name?: unknown } | undefined)?.name;
    if (typeof name !== 'string' || name === '') throw new BadRequest('name: the exposed name of a changed tool');
    const approved = pins.approve({ exposedName: name });
    if (approved.length === 0) return void res.status(404).json({ error: `no pending change for ${name}` });
    res.json({ approved: approved.map((c) => c.exposedName) });
  });

  api.get('/approvals', (req, res) => {
    const status = query(req, 'status') as ApprovalStatus | undefined;
    if (status && !APPROVAL_STATUSES.includes(status)) {
      throw new BadRequest(`status: expected one of ${APPROVAL_STATUSES.join(', ')}`);
    }
    res.json({ rows: approvals.list({ status, limit: int(req, 'limit', 100, 1000) }) });
  });
  api.post('/approvals/:id', decision, (req, res) => {
    const id = Number(req.params.id);
    const verdict = (req.body as { decision?: unknown } | undefined)?.decision;
    if (verdict !== 'approve' && verdict !== 'deny') throw new BadRequest('decision: "approve" or "deny"');
    if (!Number.isInteger(id) || !approvals.get(id)) {
      return void res.status(404).json({ error: `no approval ${req.params.id}` });
    }
    if (!approvals.decide(id, verdict === 'approve' ? 'approved' : 'denied', 'dashboard')) {
      return void res.status(409).json({ error: `approval ${id} is no longer pending`, row: approvals.get(id) });
    }
    res.json(approvals.get(id));
  });

  api.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'no such dashboard API' });
  });
  api.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = error instanceof BadRequest ? 400 : ((error as { status?: number }).status ?? 500);
    res.status(status).json({ error: errorMessage(error) });
  });
  return api;
}
