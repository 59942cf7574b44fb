// A lean OpenAI Chat Completions load client on undici: keep-alive connections (one per
// request in flight), pre-serialised bodies, a fresh AbortSignal per request. Used for
// the direct baseline of scenario 6 and for Portkey, so both pay the same client cost.
/* global AbortController */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

const MESSAGES = [{ role: 'user', content: 'Say hi' }];

export class OpenAiClient {
  /** `baseUrl` ends before `/chat/completions`, as an OpenAI `baseURL` does. */
  constructor(baseUrl, { connections = 1, headers = {} } = {}) {
    this.url = new URL(`${baseUrl.replace(/\/$/, '')}/chat/completions`);
    this.pool = new Pool(this.url.origin, { connections, pipelining: 1, keepAliveTimeout: 120_000 });
    this.headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-0123456789', ...headers };
  }

  async post(body) {
    const controller = new AbortController();
    return this.pool.request({
      path: this.url.pathname,
      method: 'POST',
      headers: this.headers,
      body,
      signal: controller.signal,
    });
  }

  /** One plain call: resolves true when the answer `hello from <model>` came back. */
  plainCaller(model) {
    const body = JSON.stringify({ model, messages: MESSAGES, max_tokens: 16 });
    const want = `hello from ${model}`;
    return async () => {
      const { statusCode, body: stream } = await this.post(body);
      const reply = await stream.json();
      return statusCode === 200 && reply.choices?.[0]?.message?.content === want;
    };
  }

  /**
   * One streamed call: `{ ok, ms }` with ms the time to the first chunk that carries
   * text. The rest of the stream is read to `[DONE]` before the call counts as done.
   */
  streamCaller(model) {
    const body = JSON.stringify({ model, messages: MESSAGES, max_tokens: 16, stream: true });
    return async () => {
      const t0 = performance.now();
      const { statusCode, body: stream } = await this.post(body);
      let ttft;
      let text = '';
      stream.setEncoding('utf8');
      for await (const chunk of stream) {
        if (ttft === undefined && /"content":"[^"]/.test(chunk)) ttft = performance.now() - t0;
        text += chunk;
      }
      const ok = statusCode === 200 && ttft !== undefined && text.includes('data: [DONE]');
      return { ok, ms: ttft ?? performance.now() - t0 };
    };
  }

  close() {
    return this.pool.close();
  }
}
