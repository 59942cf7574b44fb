import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';

/**
 * One face over the SDK's two client lines, so each end-to-end test runs against both
 * protocol eras: `v1` (@modelcontextprotocol/sdk) speaks 2025-11-25 with sessions;
 * `v2` (@modelcontextprotocol/client, negotiation `auto`) lands on 2026-07-28.
 */
export type ClientKind = 'v1' | 'v2';

type Json = Record<string, unknown>;
export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

export interface Handlers {
  sampling?: (params: Json) => Promise<Json>;
  elicitation?: (params: Json) => Promise<Json>;
  roots?: () => Promise<Json>;
  toolsChanged?: () => void;
  log?: (params: Json) => void;
  resourceUpdated?: (uri: string) => void;
}

export interface CallOptions {
  onprogress?: (progress: Progress) => void;
  signal?: AbortSignal;
  timeout?: number;
  /** Sent as the request's `params._meta` (a `traceparent`, say). */
  meta?: Json;
}

export interface TestClient {
  kind: ClientKind;
  era(): string | undefined;
  /** The server's `instructions`, as the client received them. */
  instructions(): string | undefined;
  listTools(): Promise<Json[]>;
  callTool(name: string, args?: Json, options?: CallOptions): Promise<Json>;
  readResource(uri: string): Promise<Json>;
  listResources(): Promise<Json[]>;
  listResourceTemplates(): Promise<Json[]>;
  listPrompts(): Promise<Json[]>;
  getPrompt(name: string, args?: Record<string, string>): Promise<Json>;
  complete(params: Json): Promise<Json>;
  setLoggingLevel(level: string): Promise<void>;
  subscribe(uri: string): Promise<void>;
  unsubscribe(uri: string): Promise<void>;
  close(): Promise<void>;
}

export type Target =
  | { stdio: { command: string; args: string[]; env?: Record<string, string> } }
  | { url: string; headers?: Record<string, string> };

/** The SDK probes the era of a plain StdioClientTransport on a throw-away sibling process; a subclass probes in place. */
class InPlaceStdio extends StdioV2 {}

function capabilities(handlers: Handlers): Json {
  return {
    ...(handlers.sampling ? { sampling: {} } : {}),
    ...(handlers.elicitation ? { elicitation: { form: {} } } : {}),
    ...(handlers.roots ? { roots: { listChanged: true } } : {}),
  };
}

export async function connectClient(kind: ClientKind, target: Target, handlers: Handlers = {}): Promise<TestClient> {
  const env = 'stdio' in target ? { ...(process.env as Record<string, string>), ...target.stdio.env } : undefined;
  if (kind === 'v1') {
    const client = new ClientV1({ name: 'test-v1', version: '1.0.0' }, { capabilities: capabilities(handlers) });
    if (handlers.sampling)
      client.setRequestHandler(CreateMessageRequestSchema, (r) => handlers.sampling!(r.params) as never);
    if (handlers.elicitation)
      client.setRequestHandler(ElicitRequestSchema, (r) => handlers.elicitation!(r.params) as never);
    if (handlers.roots) client.setRequestHandler(ListRootsRequestSchema, () => handlers.roots!() as never);
    if (handlers.toolsChanged)
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => handlers.toolsChanged!());
    if (handlers.log) client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => handlers.log!(n.params));
    if (handlers.resourceUpdated) {
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => handlers.resourceUpdated!(n.params.uri));
    }
    const transport =
      'stdio' in target
        ? new StdioV1({ command: target.stdio.command, args: target.stdio.args, env, stderr: 'pipe' })
        : new HttpV1(new URL(target.url), { requestInit: { headers: target.headers ?? {} } });
    await client.connect(transport);
    const all = async <T>(fetchPage: (cursor?: string) => Promise<{ nextCursor?: string } & Json>, key: string) => {
      const items: T[] = [];
      let cursor: string | undefined;
      do {
        const page = await fetchPage(cursor);
        items.push(...(page[key] as T[]));
        cursor = page.nextCursor;
      } while (cursor);
      return items;
    };
    return {
      kind,
      era: () => client.getServerVersion() && 'legacy',
      instructions: () => client.getInstructions(),
      listTools: () => all((cursor) => client.listTools(cursor ? { cursor } : {}) as never, 'tools'),
      callTool: (name, args = {}, { meta, ...options } = {}) =>
        client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }, undefined, options) as never,
      readResource: (uri) => client.readResource({ uri }) as never,
      listResources: () => all((cursor) => client.listResources(cursor ? { cursor } : {}) as never, 'resources'),
      listResourceTemplates: () =>
        all((cursor) => client.listResourceTemplates(cursor ? { cursor } : {}) as never, 'resourceTemplates'),
      listPrompts: () => all((cursor) => client.listPrompts(cursor ? { cursor } : {}) as never, 'prompts'),
      getPrompt: (name, args) => client.getPrompt({ name, arguments: args }) as never,
      complete: (params) => client.complete(params as never) as never,
      setLoggingLevel: async (level) => void (await client.setLoggingLevel(level as never)),
      subscribe: async (uri) => void (await client.subscribeResource({ uri })),
      unsubscribe: async (uri) => void (await client.unsubscribeResource({ uri })),
      close: () => client.close(),
    };
  }
  const client = new ClientV2(
    { name: 'test-v2', version: '1.0.0' },
    {
      capabilities: capabilities(handlers),
      versionNegotiation: { mode: 'auto' },
      ...(handlers.toolsChanged
        ? { listChanged: { tools: { autoRefresh: false, onChanged: () => handlers.toolsChanged!() } } }
        : {}),
    },
  );
  if (handlers.sampling)
    client.setRequestHandler('sampling/createMessage', (r) => handlers.sampling!(r.params) as never);
  if (handlers.elicitation)
    client.setRequestHandler('elicitation/create', (r) => handlers.elicitation!(r.params) as never);
  if (handlers.roots) client.setRequestHandler('roots/list', () => handlers.roots!() as never);
  const transport =
    'stdio' in target
      ? new InPlaceStdio({ command: target.stdio.command, args: target.stdio.args, env, stderr: 'pipe' })
      : new HttpV2(new URL(target.url), { requestInit: { headers: target.headers ?? {} } });
  await client.connect(transport);
  return {
    kind,
    era: () => client.getProtocolEra(),
    instructions: () => client.getInstructions(),
    listTools: async () => (await client.listTools()).tools as never,
    callTool: (name, args = {}, { meta, ...options } = {}) =>
      client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) }, options) as never,
    readResource: (uri) => client.readResource({ uri }) as never,
    listResources: async () => (await client.listResources()).resources as never,
    listResourceTemplates: async () => (await client.listResourceTemplates()).resourceTemplates as never,
    listPrompts: async () => (await client.listPrompts()).prompts as never,
    getPrompt: (name, args) => client.getPrompt({ name, arguments: args }) as never,
    complete: (params) => client.complete(params as never) as never,
    setLoggingLevel: async (level) => void (await client.setLoggingLevel(level as never)),
    subscribe: async (uri) => void (await client.subscribeResource({ uri })),
    unsubscribe: async (uri) => void (await client.unsubscribeResource({ uri })),
    close: () => client.close(),
  };
}
