export { openDatabase } from './database.js';
export type { Db } from './database.js';
export { OWNER, ownerAlive } from './owner.js';
