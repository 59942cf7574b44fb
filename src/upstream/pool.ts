import type { LoadedConfig } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { Caller } from './caller.js';
import { Upstream, type UpstreamHooks } from './upstream.js';

/**
 * Every configured upstream, connected in parallel. A slow or failing server never
 * blocks the others: `start()` returns at once, and each upstream reports through the
 * hooks when it is ready or has failed.
 *
 * For a server with `isolation: "session"`, the pool's own connection only supplies
 * the catalog; calls go to a connection that belongs to the calling session
 * (see `SessionUpstreams`).
 */
export class UpstreamPool {
  readonly upstreams = new Map<string, Upstream>();

  constructor(
    readonly config: LoadedConfig,
    private readonly hooks: UpstreamHooks,
    private readonly log: Logger,
  ) {
    for (const [name, server] of config.servers) {
      if (!server.enabled) continue;
      this.upstreams.set(name, this.create(name));
    }
  }

  create(name: string, session?: { owner: Caller; roots: boolean; hooks: Partial<UpstreamHooks> }): Upstream {
    const server = this.config.servers.get(name);
    if (!server) throw new Error(`no server named ${name}`);
    // A session's own connection never feeds the catalog (the pool's connection does).
    const hooks = session ? { ...this.hooks, changed: () => undefined, ...session.hooks } : this.hooks;
    return new Upstream(name, server, this.config.dir, hooks, this.log.child(name), {
      connectTimeoutMs: this.config.gateway.connectTimeoutMs,
      ...(session ? { owner: session.owner, roots: session.roots } : {}),
    });
  }

  /** Starts every connection; the promise settles when all have connected or failed. */
  start(): Promise<void> {
    return Promise.all([...this.upstreams.values()].map((u) => u.connect())).then(() => undefined);
  }

  forSession(owner: Caller, roots: () => boolean, hooks: Partial<UpstreamHooks> = {}): SessionUpstreams {
    return new SessionUpstreams(this, owner, roots, hooks);
  }

  async close(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((u) => u.close()));
  }
}

/** The upstreams one downstream session calls: the shared ones, plus its own isolated ones. */
export class SessionUpstreams {
  private readonly own = new Map<string, Upstream>();
  private closed = false;

  constructor(
    private readonly pool: UpstreamPool,
    private readonly owner: Caller,
    private readonly roots: () => boolean,
    private readonly hooks: Partial<UpstreamHooks>,
  ) {}

  /** The connection a call to `server` goes to, connecting an isolated one on first use. */
  async get(server: string): Promise<Upstream | undefined> {
    const shared = this.pool.upstreams.get(server);
    if (!shared || shared.config.isolation !== 'session') return shared;
    if (this.closed) return undefined;
    let mine = this.own.get(server);
    if (!mine) {
      mine = this.pool.create(server, { owner: this.owner, roots: this.roots(), hooks: this.hooks });
      this.own.set(server, mine);
    }
    await mine.connect();
    return mine;
  }

  /** Tells this session's own connections (for example that its roots changed). */
  async notifyOwn(method: string): Promise<void> {
    await Promise.all([...this.own.values()].map((u) => u.notify(method)));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.own.values()].map((u) => u.close()));
    this.own.clear();
  }
}
