// Processes of a benchmark run: spawning them with their stderr in a log file, reading
// their CPU time and memory from /proc, free ports, and ending everything at exit.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const children = new Set();

/** Ends every process this run started (by its own pid; each was started by us). */
export function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

process.on('exit', () => killAll());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/**
 * Spawns a process with stdin/stdout as pipes (or as given) and stderr appended to
 * `logFile`, so a chatty process can never block on a full stderr pipe.
 */
export function start(command, args, { logFile, env, stdin = 'pipe', stdout = 'pipe', cwd } = {}) {
  const fd = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(command, args, {
    stdio: [stdin, stdout, fd],
    env: env ?? process.env,
    cwd,
  });
  if (typeof fd === 'number') closeSync(fd);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.on('error', () => undefined);
  return child;
}

/** Stops one process: closes its stdin, then SIGTERM, then SIGKILL. */
export async function stop(child, { graceMs = 3000 } = {}) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * CPU time of a process in nanoseconds, all of its threads. Summing each thread's
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds on CPU) is far finer than utime+stime
 * in /proc/<pid>/stat (10 ms ticks); Node's threads live as long as the process, so
 * the sum is its whole CPU time. Falls back to /proc/<pid>/stat.
 */
export function cpuNs(pid) {
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
      total += Number(text.slice(0, text.indexOf(' ')));
    }
    return total;
  } catch {
    return statCpuNs(pid);
  }
}

/** utime + stime of /proc/<pid>/stat, in nanoseconds (10 ms resolution). */
export function statCpuNs(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e9) / TICKS_PER_SECOND;
}

/** Resident set size of one process (its children are separate processes), in bytes. */
export function rssBytes(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(text);
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The pids of a process's direct children. */
export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(check, { timeoutMs = 30_000, everyMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
