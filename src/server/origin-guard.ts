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

/**
 * DNS-rebinding protection. A browser page on another site may reach a gateway on
 * 127.0.0.1; it is stopped by its `Origin` (403 when present and not allowed) and, on a
 * loopback bind, by a `Host` that does not name this machine.
 */
export function originGuard(options: { loopback: boolean; allowedOrigins: string[]; allowedHosts: string[] }) {
  const origins = new Set(options.allowedOrigins);
  const hosts = new Set(options.allowedHosts);
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin)) {
      let allowed = false;
      try {
        const url = new URL(origin);
        // A loopback page, or the gateway's own page (the dashboard posting to its own host).
        allowed = isLoopbackHost(url.hostname) || (req.headers.host !== undefined && url.host === req.headers.host);
      } catch {
        allowed = false;
      }
      if (!allowed) return forbid(res, `Forbidden: origin ${origin} is not allowed`);
    }
    const host = req.headers.host;
    if (options.loopback || hosts.size > 0) {
      const name = host === undefined ? '' : hostnameOf(host);
      if (!(hosts.has(host ?? '') || hosts.has(name) || (options.loopback && isLoopbackHost(name)))) {
        return forbid(res, `Forbidden: host ${host ?? '(none)'} is not allowed`);
      }
    }
    next();
  };
}
