import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { PinStore } from '../catalog/index.js';
import { adminToken, dashboard, dashboardUrl } from '../dashboard/index.js';
import { GatewayError } from '../errors.js';
import { releaseYoungGeneration } from '../heap.js';
import { ApprovalQueue } from '../policy/index.js';
import { GATEWAY_VERSION } from '../server/index.js';
import { isLoopbackHost, originGuard } from '../server/origin-guard.js';
import { openExistingDatabase } from './database.js';

export interface DashboardOptions {
  config: string;
  db?: string;
  host: string;
  port: number;
}

/**
 * `switchboard dashboard`: the dashboard over a database alone, for a gateway that runs
 * over stdio (inside Claude Desktop, an IDE) and serves no HTTP. Approvals and pin
 * approvals made here reach that gateway through the database.
 */
export async function dashboardCommand(options: DashboardOptions): Promise<number> {
  const loopback = isLoopbackHost(options.host);
  const admin = adminToken(loopback);
  if (admin === undefined) {
    throw new GatewayError(
      'config_invalid',
      `refusing to serve the dashboard on ${options.host} without SWITCHBOARD_ADMIN_TOKEN: anyone who can reach it could read the audit log and approve calls`,
    );
  }
  const db = openExistingDatabase(options);
  const file = db.name;
  const app = express();
  app.disable('x-powered-by');
  app.use(originGuard({ loopback, allowedOrigins: [], allowedHosts: [] }));
  app.use(
    dashboard(
      { db, pins: new PinStore(db), approvals: new ApprovalQueue(db), auditing: true, version: GATEWAY_VERSION },
      { adminToken: admin.token },
    ),
  );
  const server = createServer(app);
  server.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  releaseYoungGeneration(); // started (src/heap.ts)
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  process.stderr.write(
    `Switchboard dashboard for ${file} on ${dashboardUrl(`http://${host}:${address.port}`, admin)}\n`,
  );
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  db.close();
  return 0;
}
