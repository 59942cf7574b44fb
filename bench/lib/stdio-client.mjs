// A lean MCP client over a child's stdin/stdout: raw JSON-RPC lines, requests matched
// to responses by id, tool calls pre-serialised except for their id. The same client
// drives every stdio contender, so its cost is the same for all of them.

const PROTOCOL = '2025-11-25';

export class StdioRpc {
  /** @param {import('node:child_process').ChildProcess} child */
  constructor(child) {
    this.child = child;
    this.pending = new Map();
    this.nextId = 1;
    this.buffer = '';
    this.closed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => this.onData(chunk));
    child.once('exit', (code, signal) => {
      this.closed = true;
      const error = new Error(`process exited (${signal ?? code})`);
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    });
    child.stdin.on('error', () => undefined);
  }

  onData(chunk) {
    this.buffer += chunk;
    let newline;
    while ((newline = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (line.length === 0) continue;
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        continue; // not a frame: nothing of ours
      }
      if (message.id === undefined || message.method !== undefined) continue; // notifications, server requests
      const waiter = this.pending.get(message.id);
      if (!waiter) continue;
      this.pending.delete(message.id);
      waiter.resolve(message);
    }
  }

  /** Sends one pre-serialised request line whose id is `id`; resolves with the response. */
  send(id, line) {
    if (this.closed) return Promise.reject(new Error('process exited'));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(line);
    });
  }

  request(method, params) {
    const id = this.nextId++;
    return this.send(id, JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
  }

  notify(method, params) {
    this.child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method, params }) + '\n');
  }

  /** The 2025-11-25 handshake. */
  async initialize(timeoutMs = 60_000) {
    const reply = await withTimeout(
      this.request('initialize', {
        protocolVersion: PROTOCOL,
        capabilities: {},
        clientInfo: { name: 'switchboard-bench', version: '1.0.0' },
      }),
      timeoutMs,
      'initialize',
    );
    if (reply.error) throw new Error(`initialize failed: ${JSON.stringify(reply.error)}`);
    this.notify('notifications/initialized');
    return reply.result;
  }

  /** A function that makes one `tools/call` of `tool` and tells whether its echo came back. */
  echoCaller(tool, text = 'hello') {
    const tail = `,"method":"tools/call","params":${JSON.stringify({ name: tool, arguments: { text } })}}\n`;
    return async () => {
      const id = this.nextId++;
      const reply = await this.send(id, '{"jsonrpc":"2.0","id":' + id + tail);
      return isEcho(reply, text);
    };
  }

  /** A function that makes one `tools/list` and resolves with the number of tools (or -1). */
  listCaller() {
    const tail = ',"method":"tools/list","params":{}}\n';
    return async () => {
      const id = this.nextId++;
      const reply = await this.send(id, '{"jsonrpc":"2.0","id":' + id + tail);
      return Array.isArray(reply.result?.tools) ? reply.result.tools.length : -1;
    };
  }
}

export function isEcho(reply, text) {
  const result = reply?.result;
  return result !== undefined && result.isError !== true && result.content?.[0]?.text === text;
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
