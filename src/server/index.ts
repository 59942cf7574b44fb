export { startHttp } from './http.js';
export type { HttpFrontDoor, HttpOptions } from './http.js';
export { Runtime } from './runtime.js';
export { GATEWAY_VERSION } from './session.js';
export { startStdio } from './stdio.js';
export type { BuiltinTool } from './builtin.js';
export { auditTool } from './tools/audit-tool.js';
export { statusTool } from './tools/status-tool.js';
export { health } from './health.js';
