#!/usr/bin/env node
// A lean fake LLM provider for scenario 6: OpenAI Chat Completions over real HTTP on
// 127.0.0.1, as small and as fast as it can be, so that what is measured in front of it
// is the gateway. POST /v1/chat/completions answers `hello from <model>` with usage,
// as JSON or (`stream: true`) as SSE `data:` chunks ending in a usage chunk and
// `data: [DONE]`. A model whose name starts with `down` answers 503 with OpenAI's error
// body, so a route or a config can fail over from it. Prints `port <n>` on stdout.
//
// (test/fixtures/fake-providers/ speaks three wire formats with scripted failures,
// delays and cuts; it is TypeScript, for the tests, and does more per request than a
// benchmark baseline should.)
import { createServer } from 'node:http';

const USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
const DOWN = JSON.stringify({
  error: { message: 'The server is overloaded (fake)', type: 'server_error', param: null, code: null },
});
let counter = 0;

function answer(model) {
  const id = `chatcmpl-fake${++counter}`;
  return JSON.stringify({
    id,
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: `hello from ${model}` },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: USAGE,
  });
}

function stream(model) {
  const id = `chatcmpl-fake${++counter}`;
  const chunk = (choices, usage) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1_700_000_000, model, choices, ...(usage ? { usage } : {}) })}\n\n`;
  const delta = (d, finish = null) => [{ index: 0, delta: d, finish_reason: finish, logprobs: null }];
  return [
    chunk(delta({ role: 'assistant', content: '' })),
    chunk(delta({ content: 'hello ' })),
    chunk(delta({ content: 'from ' })),
    chunk(delta({ content: model })),
    chunk(delta({}, 'stop')),
    chunk([], USAGE),
    'data: [DONE]\n\n',
  ];
}

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    let request;
    try {
      request = JSON.parse(body);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad json"}}');
      return;
    }
    const model = String(request.model ?? 'unknown');
    if (model.startsWith('down')) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(DOWN);
      return;
    }
    if (request.stream === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      // Each event is its own write, as a provider's stream arrives in pieces.
      for (const event of stream(model)) res.write(event);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(answer(model));
  });
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${server.address().port}\n`));
