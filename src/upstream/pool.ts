import type { LoadedConfig, ServerConfig } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { Caller } from './caller.js';
import { Upstream, type UpstreamHooks } from './upstream.js';

function sameConfig(a: ServerConfig, b: ServerConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** How long a removed or replaced connection may finish its calls before it is closed. */
const DRAIN_MS = 30_000;

export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

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
    public config: LoadedConfig,
    private readonly hooks: UpstreamHooks,
    private readonly log: Logger,
    private readonly options: { supervise: boolean } = { supervise: false },
  ) {
    for (const [name, server] of config.servers) {
      if (server.enabled) this.upstreams.set(name, this.create(name));
    }
  }

  create(name: string, session?: { owner: Caller; roots: boolean; hooks: Partial<UpstreamHooks> }): Upstream {
    const server = this.config.servers.get(name);
    if (!server) throw new Error(`no server named ${name}`);
    // A session's own connection never feeds the catalog (the pool's connection does).
    const hooks = session ? { ...this.hooks, changed: () => undefined, ...session.hooks } : this.hooks;
    return new Upstream(name, server, this.config.dir, hooks, this.log.child(name), {
      connectTimeoutMs: this.config.gateway.connectTimeoutMs,
      maxMessageBytes: this.config.gateway.maxResultBytes,
      supervise: this.options.supervise,
      ...(session ? { owner: session.owner, roots: session.roots } : {}),
    });
  }

  /** Starts every connection; the promise settles when all have connected or failed. */
  start(): Promise<void> {
    return Promise.all([...this.upstreams.values()].map((u) => u.connect())).then(() => undefined);
  }

  /**
   * Moves to a new config without a restart: new servers connect, removed ones finish
   * their calls and close, changed ones get a new connection that takes over once it is
   * ready (the old one keeps serving until then). Unchanged servers are not touched.
   * The caller rebuilds the catalog.
   */
  apply(next: LoadedConfig): ConfigDiff {
    const after = new Map([...next.servers].filter(([, s]) => s.enabled) as [string, ServerConfig][]);
    const diff: ConfigDiff = { added: [], removed: [], changed: [] };
    // Relative paths resolve against the config's folder: a moved config changes every stdio server.
    const moved = this.config.dir !== next.dir;
    this.config = next;
    // Compare with what is serving now (not with the previous file): a change whose new
    // connection was still starting when the file changed again is not lost.
    for (const name of this.upstreams.keys()) if (!after.has(name)) diff.removed.push(name);
    for (const [name, server] of after) {
      const serving = this.upstreams.get(name);
      if (!serving) diff.added.push(name);
      else if (moved || !sameConfig(serving.config, server)) diff.changed.push(name);
    }
    for (const name of diff.removed) {
      const old = this.upstreams.get(name);
      this.upstreams.delete(name);
      if (old) void this.retire(old);
    }
    for (const name of diff.added) {
      const upstream = this.create(name);
      this.upstreams.set(name, upstream);
      void upstream.connect();
    }
    for (const name of diff.changed) {
      const replacement = this.create(name);
      void replacement.connect().then(() => {
        const wanted = this.config.servers.get(name);
        // Superseded by a later reload, or it did not come up: the serving one stays.
        if (!wanted || !sameConfig(wanted, replacement.config) || replacement.status !== 'ready') {
          if (replacement.status !== 'ready' && wanted && sameConfig(wanted, replacement.config)) {
            this.log.error('the changed server did not start; the previous connection keeps serving', {
              server: name,
              error: replacement.lastError,
            });
          }
          return void replacement.close();
        }
        const old = this.upstreams.get(name);
        this.upstreams.set(name, replacement);
        this.hooks.changed(replacement);
        if (old) void this.retire(old);
      });
    }
    return diff;
  }

  /** Lets a connection finish what it is doing (bounded), then closes it. */
  private async retire(upstream: Upstream): Promise<void> {
    const deadline = Date.now() + DRAIN_MS;
    while (upstream.busy > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await upstream.close();
  }

  forSession(owner: Caller, roots: () => boolean, hooks: Partial<UpstreamHooks> = {}): SessionUpstreams {
    return new SessionUpstreams(this, owner, roots, hooks);
  }

  /** Calls in flight on every pool connection. */
  get busy(): number {
    let n = 0;
    for (const u of this.upstreams.values()) n += u.busy;
    return n;
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
    // A session's own connection that died, or whose server changed, is replaced on the next call.
    if (!mine || mine.status === 'failed' || mine.status === 'closed' || !sameConfig(mine.config, shared.config)) {
      void mine?.close();
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
