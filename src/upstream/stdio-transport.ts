import { spawn, type ChildProcess } from 'node:child_process';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import { getDefaultEnvironment } from '@modelcontextprotocol/client/stdio';
import { LineWriter } from '../line-writer.js';
import type { Logger } from '../observability/index.js';
import { EDGE_BYTES, findId, isMethodHead, oversizedMessage } from './message-limit.js';

/** How many of the child's last stderr lines are kept to explain a failed start. */
const STDERR_TAIL = 20;

export interface StdioSpawnOptions {
  command: string;
  args: readonly string[];
  cwd: string | undefined;
  env: Readonly<Record<string, string>>;
  /** A message longer than this is not buffered: its request gets an error naming the limit. */
  maxMessageBytes: number;
}

/** Every child we spawned and not yet reaped, so an exiting gateway can end them all. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // Negative pid: the whole process group, so grandchildren (npx → node) go too.
    process.kill(-child.pid, signal);
  } catch {
    /* the group is gone already */
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL the groups that are still alive.
  process.on('exit', () => {
    for (const child of liveChildren) killGroup(child, 'SIGKILL');
  });
}

/**
 * MCP over a child process's stdin/stdout, one JSON message per line. Unlike the SDK's
 * transport it starts the child in its own process group (so closing ends grandchildren
 * too), never through a shell, with a minimal inherited environment plus the configured
 * `env`; it logs the child's stderr under the server's name and skips (and logs) stdout
 * lines that are not JSON-RPC instead of failing the connection.
 */
export class StdioUpstreamTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child: ChildProcess | undefined;
  private buffer = '';
  private oversized: { head: string; tail: string; bytes: number } | undefined;
  private readonly stderrTail: string[] = [];
  private closed = false;
  private writer: LineWriter | undefined;

  constructor(
    private readonly options: StdioSpawnOptions,
    private readonly log: Logger,
  ) {}

  /** The last lines the child wrote to stderr, to explain why it failed. */
  recentStderr(): string {
    return this.stderrTail.join('\n');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    installExitHook();
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.command, [...this.options.args], {
        cwd: this.options.cwd,
        env: { ...getDefaultEnvironment(), ...this.options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        detached: true,
        windowsHide: true,
      });
      this.child = child;
      liveChildren.add(child);
      child.once('error', (error) => {
        liveChildren.delete(child);
        const wrapped = new Error(`cannot start ${this.options.command}: ${error.message}`, { cause: error });
        reject(wrapped);
        this.onerror?.(wrapped);
        this.finish();
      });
      child.once('spawn', () => resolve());
      child.once('exit', (code, signal) => {
        liveChildren.delete(child);
        if (!this.closed) {
          const tail = this.stderrTail.at(-1);
          this.onerror?.(new Error(`process exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ''}`));
        }
        this.finish();
      });
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => this.onStdout(chunk));
      child.stderr?.setEncoding('utf8');
      let partial = '';
      child.stderr?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const text of lines) this.onStderrLine(text);
      });
      child.stdin?.on('error', (error) => this.onerror?.(error));
    });
  }

  private onStderrLine(text: string): void {
    const trimmed = text.trimEnd();
    if (!trimmed) return;
    this.stderrTail.push(trimmed);
    if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
    this.log.info(trimmed, { stream: 'stderr' });
  }

  private onStdout(chunk: string): void {
    // A loop rather than recursion: one chunk may hold many lines over the limit.
    let rest: string | undefined = chunk;
    while (rest !== undefined) rest = this.oversized ? this.skipOversized(rest) : this.readLines(rest);
  }

  /**
   * Adds a chunk to the line under way and hands on the lines it completes. Returns
   * what follows once a line turns out to be over the limit (it is being skipped now),
   * or `undefined` when the chunk is used up.
   */
  private readLines(chunk: string): string | undefined {
    this.buffer += chunk;
    const limit = this.options.maxMessageBytes;
    let newline = this.buffer.indexOf('\n');
    while (newline !== -1) {
      // A line the chunk completes is measured too, not only one still open at its end.
      if (newline > limit) return this.startSkipping(newline);
      const text = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.onLine(text);
      newline = this.buffer.indexOf('\n');
    }
    return this.buffer.length > limit ? this.startSkipping(this.buffer.length) : undefined;
  }

  /** The buffered line (`length` long so far) is over the limit: keeps its start, returns the rest to skip. */
  private startSkipping(length: number): string {
    const rest = this.buffer;
    const head = Math.min(EDGE_BYTES, length);
    this.buffer = '';
    this.oversized = { head: rest.slice(0, head), tail: '', bytes: 0 };
    return rest.slice(head);
  }

  /**
   * Consumes a message too large to keep, remembering only its two ends. Once it ends,
   * the request it answered gets an error (its id is near one end of the line; a request
   * or notification of the server's answers nothing and is only dropped), and what
   * follows it is returned; `undefined` while it goes on.
   */
  private skipOversized(chunk: string): string | undefined {
    const state = this.oversized!;
    const newline = chunk.indexOf('\n');
    const part = newline === -1 ? chunk : chunk.slice(0, newline);
    state.bytes += part.length;
    state.tail = (state.tail + part).slice(-EDGE_BYTES);
    if (newline === -1) return undefined;
    this.oversized = undefined;
    const size = state.bytes + state.head.length;
    const id = isMethodHead(state.head) ? undefined : findId(state.head, state.tail);
    this.log.warn('skipped an oversized message', { bytes: size, limit: this.options.maxMessageBytes });
    if (id !== undefined) {
      this.onmessage?.({
        jsonrpc: '2.0',
        id,
        error: { code: -32603, message: oversizedMessage(size, this.options.maxMessageBytes) },
      });
    }
    return chunk.slice(newline + 1);
  }

  private onLine(text: string): void {
    const trimmed = text.trim();
    if (!trimmed) return;
    let message: unknown;
    try {
      message = JSON.parse(trimmed);
    } catch {
      this.log.warn('skipped a stdout line that is not JSON', { line: trimmed.slice(0, 200) });
      return;
    }
    if (message === null || typeof message !== 'object' || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      this.log.warn('skipped a stdout line that is not JSON-RPC 2.0', { line: trimmed.slice(0, 200) });
      return;
    }
    this.onmessage?.(message as JSONRPCMessage);
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || this.closed || stdin.destroyed) return Promise.reject(new Error('not connected'));
    this.writer ??= new LineWriter(stdin);
    return this.writer.write(JSON.stringify(message) + '\n');
  }

  /** Closes stdin, then escalates to SIGTERM and SIGKILL of the process group. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || this.closed) return;
    this.closed = true;
    this.writer?.flush();
    child.stdin?.end();
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    const wait = (ms: number) => new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref());
    if (!(await Promise.race([exited.then(() => true), wait(1000)]))) {
      killGroup(child, 'SIGTERM');
      if (!(await Promise.race([exited.then(() => true), wait(2000)]))) killGroup(child, 'SIGKILL');
    }
    // Grandchildren may outlive a leader that exited on stdin EOF: end the group regardless.
    killGroup(child, 'SIGKILL');
    this.finish();
  }

  private finish(): void {
    if (this.child) liveChildren.delete(this.child);
    const callback = this.onclose;
    this.onclose = undefined;
    this.closed = true;
    callback?.();
  }
}
