import { existsSync } from 'node:fs';
import { databaseFile } from '../app.js';
import { loadConfig } from '../config/index.js';
import { openDatabase, type Db } from '../db/index.js';
import { GatewayError } from '../errors.js';

/**
 * The database a command that only reads (or decides) works on: `--db`, or the one
 * beside `--config`'s servers.json. It must exist: these commands never create one.
 */
export function openExistingDatabase(options: { config: string; db?: string | undefined }): Db {
  const file = options.db ?? databaseFile(loadConfig(options.config), undefined);
  if (!existsSync(file)) throw new GatewayError('not_found', `no database at ${file} (pass --db or --config)`);
  return openDatabase(file);
}
