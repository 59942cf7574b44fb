export { ConfigError, loadConfig, parseConfig } from './load.js';
export type { LoadedConfig } from './load.js';
export { configJsonSchema } from './json-schema.js';
export { ConfigSchema, RESERVED_SERVER_NAME, isStdio } from './schema.js';
export type { GatewayConfig, ModelsConfig, RemoteServerConfig, ServerConfig, StdioServerConfig } from './schema.js';
export { watchConfig } from './watch.js';
