import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/index.js';
import type { Upstream } from '../upstream/index.js';
import type { DownstreamSession } from './session.js';

/**
 * Upstream resource subscriptions, shared by the sessions that hold them: the first
 * session's `resources/subscribe` goes upstream, later ones only join; the last one to
 * leave (unsubscribe, or its session closing) sends `resources/unsubscribe`. Keyed by
 * `upstreamId\0uri`, so a connection that replaced another (a reload) is a new key.
 */
export class Subscriptions {
  /** The sessions holding each subscription. */
  private readonly subscribers = new Map<string, Set<DownstreamSession>>();
  /** The connection each subscription was sent on (`restarts` tells a reconnection). */
  private readonly subscribed = new Map<string, { upstream: Upstream; restarts: number }>();
  private readonly subscribing = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: {
      /** Whether the session is still open (a closed one must not stay a subscriber). */
      isOpen: (session: DownstreamSession) => boolean;
      /** Whether the connection is the pool's current one for its server. */
      isCurrent: (upstream: Upstream) => boolean;
      log: Logger;
    },
  ) {}

  sessionsOf(upstream: Upstream, uri: string): Iterable<DownstreamSession> {
    return this.subscribers.get(`${upstream.id}\u0000${uri}`) ?? [];
  }

  /** Subscribes upstream on the first session's interest; later sessions only join the count. */
  async subscribe(session: DownstreamSession, upstream: Upstream, uri: string): Promise<void> {
    const key = `${upstream.id}\u0000${uri}`;
    let set = this.subscribers.get(key);
    if (!set) {
      // Sessions that subscribe at the same moment share one upstream subscribe.
      let pending = this.subscribing.get(key);
      if (!pending) {
        pending = upstream.request('resources/subscribe', { uri }).then(() => {
          this.subscribers.set(key, new Set());
          this.subscribed.set(key, { upstream, restarts: upstream.restarts });
        });
        this.subscribing.set(key, pending);
        void pending.finally(() => this.subscribing.delete(key)).catch(() => undefined);
      }
      await pending;
      set = this.subscribers.get(key);
    }
    // Only an open session is remembered: one that closed while the upstream subscribe
    // was under way, or a stateless request (gone once answered), would stay in the set
    // for good, and keep the upstream subscription with it.
    if (this.deps.isOpen(session)) {
      if (!set) {
        set = new Set();
        this.subscribers.set(key, set);
        this.subscribed.set(key, { upstream, restarts: upstream.restarts });
      }
      set.add(session);
      return;
    }
    // Sessions that waited on the same subscribe join first; if none did, it is undone.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.subscribers.get(key)?.size !== 0) return;
    this.subscribers.delete(key);
    this.subscribed.delete(key);
    await upstream.request('resources/unsubscribe', { uri }).catch(() => undefined);
  }

  async unsubscribe(session: DownstreamSession, upstream: Upstream, uri: string): Promise<void> {
    const key = `${upstream.id}\u0000${uri}`;
    const set = this.subscribers.get(key);
    if (!set?.delete(session) || set.size > 0) return;
    this.subscribers.delete(key);
    this.subscribed.delete(key);
    await upstream.request('resources/unsubscribe', { uri });
  }

  /** A closing session leaves every subscription; the ones nobody holds any more are undone upstream. */
  async drop(session: DownstreamSession): Promise<void> {
    for (const [key, set] of this.subscribers) {
      if (!set.delete(session) || set.size > 0) continue;
      this.subscribers.delete(key);
      const upstream = this.subscribed.get(key)?.upstream;
      this.subscribed.delete(key);
      const uri = key.slice(key.indexOf('\u0000') + 1);
      await upstream?.request('resources/unsubscribe', { uri }).catch(() => undefined);
    }
  }

  /**
   * A restarted upstream process, or the connection that replaced another on a reload,
   * knows nothing of the subscriptions sessions still hold: they are sent to it again
   * (and moved to it, after a reload). Sessions' own connections (`isolation:
   * "session"`) are not covered: they are replaced on the session's next call.
   */
  resubscribe(upstream: Upstream): void {
    if (upstream.status !== 'ready' || upstream.config.isolation === 'session') return;
    if (!this.deps.isCurrent(upstream)) return;
    for (const [key, entry] of [...this.subscribed]) {
      if (entry.upstream.name !== upstream.name) continue;
      if (entry.upstream === upstream && entry.restarts === upstream.restarts) continue;
      const uri = key.slice(key.indexOf('\u0000') + 1);
      const moved = `${upstream.id}\u0000${uri}`;
      if (moved !== key) {
        const set = this.subscribers.get(key) ?? new Set<DownstreamSession>();
        for (const session of this.subscribers.get(moved) ?? []) set.add(session);
        this.subscribers.delete(key);
        this.subscribed.delete(key);
        this.subscribers.set(moved, set);
      }
      this.subscribed.set(moved, { upstream, restarts: upstream.restarts });
      void upstream.request('resources/subscribe', { uri }).catch((error: unknown) =>
        this.deps.log.warn('cannot subscribe again after the upstream reconnected', {
          server: upstream.name,
          uri,
          error: errorMessage(error),
        }),
      );
    }
  }

  /** For `/healthz`: both go back to 0 once the sessions are gone. */
  sizes(): { subscriptions: number; subscribers: number } {
    let subscribers = 0;
    for (const set of this.subscribers.values()) subscribers += set.size;
    return { subscriptions: this.subscribed.size + this.subscribing.size, subscribers };
  }
}
