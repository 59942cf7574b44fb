import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { dashboardApi, type DashboardAccess, type DashboardSources } from './api.js';

export type { DashboardAccess, DashboardSources } from './api.js';

/** `dashboard/` at the package root: plain HTML, CSS and JS, shipped as they are (no CDN). */
const ASSETS = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/**
 * The page only loads its own files and talks only to its own origin; nothing may frame
 * it (approve buttons must not be clickjacked).
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The admin token of a dashboard: `SWITCHBOARD_ADMIN_TOKEN`, or on a loopback bind one
 * made up now (printed in the dashboard's address, `/#token=…`, as Jupyter does).
 * Undefined off loopback without the variable: the dashboard is then off.
 */
export function adminToken(loopback: boolean): { token: string; generated: boolean } | undefined {
  const fromEnv = process.env.SWITCHBOARD_ADMIN_TOKEN;
  if (fromEnv) return { token: fromEnv, generated: false };
  return loopback ? { token: randomBytes(24).toString('base64url'), generated: true } : undefined;
}

/** Where to open the dashboard: with the token in the fragment (never sent to a server) when it was made up. */
export function dashboardUrl(base: string, admin: { token: string; generated: boolean }): string {
  return admin.generated ? `${base}/#token=${admin.token}` : `${base}/ (sign in with SWITCHBOARD_ADMIN_TOKEN)`;
}

/**
 * The dashboard: `/` (the page), `/assets/*` and `/api/*`; every API call needs the
 * admin token. Without one (off loopback with no SWITCHBOARD_ADMIN_TOKEN) it is off.
 */
export function dashboard(sources: DashboardSources, access: DashboardAccess | undefined): express.Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set({
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    next();
  });
  if (access === undefined) {
    router.get(['/', '/api/*path'], (_req, res) => {
      res
        .status(404)
        .type('text/plain')
        .send('The dashboard is off: this gateway is not bound to loopback and SWITCHBOARD_ADMIN_TOKEN is not set.\n');
    });
    return router;
  }
  router.use('/api', dashboardApi(sources, access));
  router.use('/assets', express.static(ASSETS, { index: false, fallthrough: false }));
  router.get('/', (_req, res) => res.sendFile('index.html', { root: ASSETS }));
  return router;
}
