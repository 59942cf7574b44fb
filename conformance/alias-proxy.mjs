// A reverse proxy in front of the gateway that undoes its namespacing for one upstream,
// so the conformance suite's fixture scenarios (which call `test_simple_text`, read
// `test://static-text`, …) can run against the gateway at all.
//
// Requests: the name in tools/call and prompts/get, the URI in resources/read,
// subscribe and unsubscribe, and the ref of completion/complete get the gateway's
// prefix (`<server>__`, `switchboard://<server>/`), and so does the Mcp-Name header
// (SEP-2243) that repeats them. Responses: every JSON string that starts with one of the
// prefixes loses it, in JSON bodies and in each `data:` line of an event stream, as the
// stream flows. Nothing else is touched: status codes, headers, the order and timing of
// messages and the closing of streams are the gateway's own.
import http from 'node:http';

const NAME_METHODS = new Set(['tools/call', 'prompts/get']);
const URI_METHODS = new Set(['resources/read', 'resources/subscribe', 'resources/unsubscribe']);

export function aliasMapping(server) {
  const namePrefix = `${server}__`;
  const uriPrefix = `switchboard://${server}/`;
  const name = (value) => (typeof value === 'string' && !value.includes('__') ? namePrefix + value : value);
  const uri = (value) => (typeof value === 'string' && !value.startsWith('switchboard://') ? uriPrefix + value : value);

  /** One client→gateway message with the upstream's names made the gateway's. */
  const request = (message) => {
    const params = message?.params;
    if (typeof message?.method !== 'string' || params === null || typeof params !== 'object') return message;
    if (NAME_METHODS.has(message.method)) return { ...message, params: { ...params, name: name(params.name) } };
    if (URI_METHODS.has(message.method)) return { ...message, params: { ...params, uri: uri(params.uri) } };
    if (message.method === 'completion/complete' && params.ref) {
      const ref = params.ref.type === 'ref/prompt' ? { ...params.ref, name: name(params.ref.name) } : params.ref;
      return {
        ...message,
        params: { ...params, ref: ref.type === 'ref/resource' ? { ...ref, uri: uri(ref.uri) } : ref },
      };
    }
    return message;
  };

  /** Any gateway→client value with the prefixes taken off its strings. */
  const response = (value) => {
    if (typeof value === 'string') {
      if (value.startsWith(namePrefix)) return value.slice(namePrefix.length);
      if (value.startsWith(uriPrefix)) return value.slice(uriPrefix.length);
      return value;
    }
    if (Array.isArray(value)) return value.map(response);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, response(v)]));
    }
    return value;
  };

  /** The Mcp-Name header (SEP-2243) repeats the body's name or URI: it gets the same prefix, even when it disagrees with the body. */
  const header = (message, value) => {
    if (NAME_METHODS.has(message?.method)) return name(value);
    if (URI_METHODS.has(message?.method)) return uri(value);
    return value;
  };

  return { request, response, header };
}

function rewriteJson(text, map) {
  try {
    return JSON.stringify(map(JSON.parse(text)));
  } catch {
    return text;
  }
}

/** Starts the proxy on 127.0.0.1 (a free port); resolves to its `/mcp` URL and a close function. */
export async function startAliasProxy({ target, server }) {
  const map = aliasMapping(server);
  const to = new URL(target);
  const proxy = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const headers = { ...req.headers };
      if (body.length > 0 && (headers['content-type'] ?? '').includes('json')) {
        try {
          const message = JSON.parse(body.toString('utf8'));
          const mapped = Array.isArray(message) ? message.map(map.request) : map.request(message);
          body = Buffer.from(JSON.stringify(mapped));
          if (headers['mcp-name'] !== undefined && !Array.isArray(message)) {
            headers['mcp-name'] = map.header(message, headers['mcp-name']);
          }
        } catch {
          // Not JSON after all: the gateway gets the bytes as they were.
        }
        headers['content-length'] = String(body.length);
      }
      const forward = http.request(
        { host: to.hostname, port: to.port, path: req.url, method: req.method, headers },
        (answer) => relay(answer, res, map),
      );
      forward.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`alias proxy: ${error.message}`);
      });
      // A client that goes away (an aborted listen stream, a closed SSE GET) goes away upstream too.
      res.on('close', () => forward.destroy());
      forward.end(body);
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address();
  return {
    url: `http://127.0.0.1:${port}${to.pathname}`,
    close: () =>
      new Promise((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

function relay(answer, res, map) {
  const type = answer.headers['content-type'] ?? '';
  const headers = { ...answer.headers };
  if (type.includes('text/event-stream')) {
    delete headers['content-length'];
    res.writeHead(answer.statusCode, headers);
    res.flushHeaders();
    const line = (text) =>
      text.startsWith('data:') ? `data: ${rewriteJson(text.slice(5).trim(), map.response)}` : text;
    let pending = '';
    answer.setEncoding('utf8');
    answer.on('data', (text) => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop();
      if (lines.length > 0) res.write(lines.map((l) => line(l.replace(/\r$/, '')) + '\n').join(''));
    });
    answer.on('end', () => res.end(pending ? line(pending) : undefined));
    answer.on('error', () => res.destroy());
    return;
  }
  if (type.includes('json')) {
    const chunks = [];
    answer.on('data', (chunk) => chunks.push(chunk));
    answer.on('end', () => {
      const body = Buffer.from(rewriteJson(Buffer.concat(chunks).toString('utf8'), map.response));
      headers['content-length'] = String(body.length);
      delete headers['transfer-encoding'];
      res.writeHead(answer.statusCode, headers);
      res.end(body);
    });
    return;
  }
  res.writeHead(answer.statusCode, headers);
  answer.pipe(res);
}
