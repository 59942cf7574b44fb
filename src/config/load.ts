import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { GatewayError } from '../errors.js';
import { interpolate, type InterpolationIssue } from './interpolate.js';
import { jsonErrorOffset } from './json-position.js';
import {
  ConfigSchema,
  RESERVED_SERVER_NAME,
  RemoteServerSchema,
  SERVER_NAME,
  StdioServerSchema,
  type GatewayConfig,
  type ModelsConfig,
  type ServerConfig,
} from './schema.js';

/** A validated `servers.json`, with paths resolved against its folder. */
export interface LoadedConfig {
  file: string;
  dir: string;
  servers: ReadonlyMap<string, ServerConfig>;
  models: ModelsConfig | undefined;
  gateway: GatewayConfig;
}

/** A config file that cannot be used; `issues` holds one `file: path: message` line each. */
export class ConfigError extends GatewayError {
  readonly issues: readonly string[];
  constructor(issues: string[]) {
    super('config_invalid', issues.join('\n'));
    this.issues = issues;
  }
}

type Path = readonly PropertyKey[];

function formatPath(segments: Path): string {
  return segments.length === 0 ? '(root)' : segments.map(String).join('.');
}

function line(file: string, segments: Path, message: string): string {
  return `${path.basename(file)}: ${formatPath(segments)}: ${message}`;
}

/**
 * One line per schema issue. `skip` holds fields whose value came from a missing
 * variable: that error is already reported, and a follow-on one would add nothing.
 */
function zodLines(file: string, prefix: Path, error: z.ZodError, skip: ReadonlySet<string>): string[] {
  return error.issues
    .filter((issue) => !skip.has(formatPath([...prefix, ...issue.path])))
    .map((issue) => line(file, [...prefix, ...issue.path], issue.message));
}

/** One line for a JSON.parse failure: `file:line:column: invalid JSON: what`. */
function jsonErrorLine(file: string, text: string, error: unknown): string {
  // V8's message may quote a multi-line snippet of the file: keep only the first clause.
  const raw = error instanceof Error ? error.message : String(error);
  const reason = raw
    .split(/ in JSON at position| is not valid JSON|, "/)[0]!
    .replace(/\s+/g, ' ')
    .trim();
  const offset = jsonErrorOffset(text);
  if (offset < 0) return `${path.basename(file)}: invalid JSON: ${reason}`;
  const before = text.slice(0, offset);
  const row = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `${path.basename(file)}:${row}:${column}: invalid JSON: ${reason}`;
}

/** Validates one `mcpServers` entry with the schema its transport calls for, so errors stay specific. */
function parseServer(
  file: string,
  name: string,
  raw: unknown,
  errors: string[],
  skip: ReadonlySet<string>,
): ServerConfig | undefined {
  const at = ['mcpServers', name];
  if (!SERVER_NAME.test(name)) {
    errors.push(line(file, at, 'server names may contain only letters, digits and "-"'));
    return undefined;
  }
  if (name === RESERVED_SERVER_NAME) {
    errors.push(line(file, at, `"${RESERVED_SERVER_NAME}" is reserved for the gateway's own tools`));
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    errors.push(line(file, at, 'expected an object'));
    return undefined;
  }
  const entry = raw as Record<string, unknown>;
  const type = entry.type ?? ('command' in entry ? 'stdio' : undefined);
  let schema: typeof StdioServerSchema | typeof RemoteServerSchema;
  if (type === 'stdio') schema = StdioServerSchema;
  else if (type === 'http' || type === 'sse') schema = RemoteServerSchema;
  else if (type === undefined) {
    errors.push(line(file, at, 'expected "command" (a stdio server) or "type": "http" | "sse" with a "url"'));
    return undefined;
  } else {
    errors.push(
      line(file, [...at, 'type'], `unknown transport ${JSON.stringify(type)} (expected "stdio", "http" or "sse")`),
    );
    return undefined;
  }
  const parsed = schema.safeParse(entry);
  if (!parsed.success) {
    errors.push(...zodLines(file, at, parsed.error, skip));
    return undefined;
  }
  return parsed.data;
}

function resolvePaths(server: ServerConfig, dir: string): ServerConfig {
  if (!('command' in server)) return server;
  const cwd = server.cwd === undefined ? dir : path.resolve(dir, server.cwd);
  // A command written as a relative path ("./bin/server") is relative to the config file;
  // a bare name ("npx") is looked up on PATH as usual.
  const command =
    server.command.includes('/') && !path.isAbsolute(server.command)
      ? path.resolve(dir, server.command)
      : server.command;
  return { ...server, cwd, command };
}

/**
 * Parses config text. Fails with a ConfigError listing every problem found, each line
 * naming the file and the field.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const absolute = path.resolve(file);
  const dir = path.dirname(absolute);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([jsonErrorLine(absolute, text, error)]);
  }
  const interpolationIssues: InterpolationIssue[] = [];
  const expanded = interpolate(json, env, interpolationIssues);
  const errors = interpolationIssues.map((issue) => line(absolute, issue.path, issue.message));
  const skip = new Set(interpolationIssues.map((issue) => formatPath(issue.path)));

  // The root is checked with the servers left opaque, then each server on its own.
  const root = ConfigSchema.safeParse(
    expanded !== null && typeof expanded === 'object' && !Array.isArray(expanded)
      ? { ...expanded, mcpServers: {} }
      : expanded,
  );
  if (!root.success) errors.push(...zodLines(absolute, [], root.error, skip));

  const servers = new Map<string, ServerConfig>();
  const rawServers = (expanded as { mcpServers?: unknown } | null)?.mcpServers;
  if (rawServers !== undefined) {
    if (rawServers === null || typeof rawServers !== 'object' || Array.isArray(rawServers)) {
      errors.push(line(absolute, ['mcpServers'], 'expected an object of servers by name'));
    } else {
      for (const [name, raw] of Object.entries(rawServers)) {
        const server = parseServer(absolute, name, raw, errors, skip);
        if (server) servers.set(name, resolvePaths(server, dir));
      }
    }
  }
  if (errors.length > 0 || !root.success) throw new ConfigError(errors);
  return { file: absolute, dir, servers, models: root.data.models, gateway: root.data.gateway };
}

/** Reads and parses a config file; a missing or unreadable file is a ConfigError too. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigError([`${path.basename(file)}: ${reason} (looked for ${path.resolve(file)})`]);
  }
  return parseConfig(text, file, env);
}
