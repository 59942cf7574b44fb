import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

type Message = Record<string, unknown>;

/**
 * Raw JSON-RPC over a process's stdio: for tests about the exact frames the gateway
 * writes (order, shape) and about malformed input, where an SDK client would hide them.
 */
export class WireClient {
  readonly received: Message[] = [];
  private buffer = '';
  private waiters: { test: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let at = this.buffer.indexOf('\n');
      while (at !== -1) {
        const line = this.buffer.slice(0, at).trim();
        this.buffer = this.buffer.slice(at + 1);
        if (line) this.onMessage(JSON.parse(line) as Message);
        at = this.buffer.indexOf('\n');
      }
    });
  }

  static start(command: string, args: string[], env: Record<string, string> = {}): WireClient {
    return new WireClient(spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  private onMessage(message: Message): void {
    this.received.push(message);
    for (const waiter of [...this.waiters]) {
      if (waiter.test(message)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  }

  send(message: Message | string): void {
    this.child.stdin.write((typeof message === 'string' ? message : JSON.stringify(message)) + '\n');
  }

  /** Resolves with the first message (already received or still to come) that passes `test`. */
  next(test: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    const seen = this.received.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  response(id: number | string, timeoutMs?: number): Promise<Message> {
    return this.next((m) => m.id === id && ('result' in m || 'error' in m), timeoutMs);
  }

  /** Sends the 2025-11-25 handshake and waits for its answer. */
  async initialize(capabilities: Message = {}): Promise<Message> {
    this.send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'wire', version: '1' } },
    });
    const answer = await this.response(0);
    this.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return answer;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
