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
 * The dashboard: `/` (the page), `/assets/*` and `/api/*`. Off loopback it exists only
 * with `SWITCHBOARD_ADMIN_TOKEN` set, and then every API call needs that token.
 */
export function dashboard(sources: DashboardSources, access: DashboardAccess): express.Router {
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
  if (!access.loopback && access.adminToken === undefined) {
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
