import { hostname } from 'node:os';

/**
 * Who owns a row that is still open (a pending audit row, a pending approval): this
 * machine and process. A row whose owner died was left behind by a stopped gateway.
 */
export const OWNER = `${hostname()}:${process.pid}`;

/** Whether the process that owns a row may still be running. */
export function ownerAlive(owner: string | null): boolean {
  if (!owner) return false;
  const at = owner.lastIndexOf(':');
  const host = owner.slice(0, at);
  const pid = Number(owner.slice(at + 1));
  if (host !== hostname()) return true; // another machine's process: not ours to judge
  if (pid === process.pid) return false; // this process is starting: nothing of it is pending yet
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
