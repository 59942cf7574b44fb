export { createLogger, parseLogLevel, silentLogger } from './logger.js';
export type { Logger, LoggerOptions, LogLevel } from './logger.js';
export type { Metrics } from './metrics.js';
