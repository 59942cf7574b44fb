export { pickCaller } from './caller.js';
export type { Caller, ServerToClientMethod } from './caller.js';
export { SessionUpstreams, UpstreamPool } from './pool.js';
export { Upstream } from './upstream.js';
export type {
  ListKind,
  RequestOptions,
  ResourceTemplate,
  UpstreamHooks,
  UpstreamLists,
  UpstreamStatus,
} from './upstream.js';
export { StdioUpstreamTransport } from './stdio-transport.js';
