/**
 * The gateway's logger. It writes to stderr only: in stdio mode stdout carries MCP
 * frames and nothing else. Lines are `time level [scope] message key=value…`, or one
 * JSON object per line with `SWITCHBOARD_LOG_FORMAT=json`.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry `scope` (for example an upstream's name). */
  child(scope: string): Logger;
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  write?: (line: string) => void;
}

export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  return value !== undefined && value in ORDER ? (value as LogLevel) : undefined;
}

export function createLogger(options: LoggerOptions = {}, scope = ''): Logger {
  const threshold = ORDER[options.level ?? 'info'];
  const format = options.format ?? 'text';
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));

  const emit = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < threshold) return;
    const time = new Date().toISOString();
    if (format === 'json') {
      write(JSON.stringify({ time, level, scope: scope || undefined, message, ...fields }));
      return;
    }
    let line = `${time} ${level.padEnd(5)} ${scope ? `[${scope}] ` : ''}${message}`;
    if (fields) {
      for (const [key, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        line += ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
      }
    }
    write(line);
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (child) => createLogger(options, scope ? `${scope}/${child}` : child),
    enabled: (level) => ORDER[level] >= threshold,
  };
}

/** A logger that drops everything; for tests and for commands that print their own output. */
export const silentLogger: Logger = createLogger({ level: 'silent' });
