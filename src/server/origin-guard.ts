import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

const LOOPBACK_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTNAMES.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function hostnameOf(hostHeader: string): string {
  // "[::1]:7800" → "[::1]", "localhost:7800" → "localhost"
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.split(':')[0] ?? '';
}

function forbid(res: Response, message: string): void {
  res.status(403).json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
}

type GuardOptions = { loopback: boolean; allowedOrigins: string[]; allowedHosts: string[] };

/**
 * DNS-rebinding protection. A browser page on another site may reach a gateway on
 * 127.0.0.1; it is stopped by its `Origin` (refused when present and not allowed) and, on
 * a loopback bind, by a `Host` that does not name this machine. Returns why a request is
 * refused, or `undefined`.
 */
export function originRefusal(options: GuardOptions): (headers: IncomingHttpHeaders) => string | undefined {
  const origins = new Set(options.allowedOrigins);
  const hosts = new Set(options.allowedHosts);
  return (headers) => {
    const origin = headers.origin;
    if (origin !== undefined && !origins.has(origin)) {
      let allowed = false;
      try {
        const url = new URL(origin);
        // A loopback page, or the gateway's own page (the dashboard posting to its own host).
        allowed = isLoopbackHost(url.hostname) || (headers.host !== undefined && url.host === headers.host);
      } catch {
        allowed = false;
      }
      if (!allowed) return `Forbidden: origin ${origin} is not allowed`;
    }
    const host = headers.host;
    if (options.loopback || hosts.size > 0) {
      const name = host === undefined ? '' : hostnameOf(host);
      if (!(hosts.has(host ?? '') || hosts.has(name) || (options.loopback && isLoopbackHost(name)))) {
        return `Forbidden: host ${host ?? '(none)'} is not allowed`;
      }
    }
    return undefined;
  };
}

/** The same check as express middleware: 403 with a JSON-RPC error. */
export function originGuard(options: GuardOptions) {
  const refusal = originRefusal(options);
  return (req: Request, res: Response, next: NextFunction): void => {
    const why = refusal(req.headers);
    if (why) return forbid(res, why);
    next();
  };
}
