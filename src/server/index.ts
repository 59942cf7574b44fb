// startHttp is imported from './http.js' where it is used: it loads express and the
// SDK's HTTP pieces, which a stdio gateway does not need.
export type { HttpFrontDoor, HttpOptions } from './http.js';
export { Runtime } from './runtime.js';
export { GATEWAY_VERSION } from './session.js';
export { startStdio } from './stdio.js';
export type { BuiltinTool } from './builtin.js';
export { auditTool } from './tools/audit-tool.js';
export { statusTool } from './tools/status-tool.js';
export { health } from './health.js';
export { modelsTool, sampleTool } from './tools/sample-tool.js';
