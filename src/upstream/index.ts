export { pickCaller } from './caller.js';
export type { Caller, ServerToClientMethod } from './caller.js';
export type { ListKind, ResourceTemplate, UpstreamLists } from './lists.js';
export { SessionUpstreams, UpstreamPool } from './pool.js';
export type { ConfigDiff } from './pool.js';
export { restartDelay } from './request-error.js';
export { findId, StdioUpstreamTransport } from './stdio-transport.js';
export { Upstream } from './upstream.js';
export type { RequestOptions, UpstreamHooks, UpstreamOptions, UpstreamStatus } from './upstream.js';
