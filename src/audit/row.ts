/** An audit row as users see it (`switchboard audit --format json`), in DESIGN.md's field names. */
export type AuditStatus =
  | 'pending'
  | 'ok'
  | 'error'
  | 'denied'
  | 'quota'
  | 'approval_denied'
  | 'timeout'
  | 'cancelled'
  | 'unavailable'
  | 'interrupted';

export const FINAL_STATUSES: readonly AuditStatus[] = [
  'ok',
  'error',
  'denied',
  'quota',
  'approval_denied',
  'timeout',
  'cancelled',
  'unavailable',
  'interrupted',
];

export interface AuditRow {
  id: number;
  ts: string;
  agent: string;
  session: string | null;
  client: string | null;
  transport: string;
  origin: string;
  method: string;
  server: string | null;
  name: string | null;
  exposedName: string | null;
  status: AuditStatus;
  error: string | null;
  decision: string | null;
  latencyMs: number | null;
  argsHash: string | null;
  args: string | null;
  requestBytes: number | null;
  responseBytes: number | null;
  result: string | null;
  model: string | null;
  provider: string | null;
  attempts: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
}

/** The fields of a row that only its outcome fills, empty. */
export function blankOutcome(): Pick<
  AuditRow,
  'error' | 'responseBytes' | 'result' | 'model' | 'provider' | 'attempts' | 'inputTokens' | 'outputTokens' | 'costUsd'
> {
  return {
    error: null,
    responseBytes: null,
    result: null,
    model: null,
    provider: null,
    attempts: null,
    inputTokens: null,
    outputTokens: null,
    costUsd: null,
  };
}

/** Columns in row order, with their SQL names. */
export const COLUMNS: readonly [keyof AuditRow, string][] = [
  ['id', 'id'],
  ['ts', 'ts'],
  ['agent', 'agent'],
  ['session', 'session'],
  ['client', 'client'],
  ['transport', 'transport'],
  ['origin', 'origin'],
  ['method', 'method'],
  ['server', 'server'],
  ['name', 'name'],
  ['exposedName', 'exposed_name'],
  ['status', 'status'],
  ['error', 'error'],
  ['decision', 'decision'],
  ['latencyMs', 'latency_ms'],
  ['argsHash', 'args_hash'],
  ['args', 'args'],
  ['requestBytes', 'request_bytes'],
  ['responseBytes', 'response_bytes'],
  ['result', 'result'],
  ['model', 'model'],
  ['provider', 'provider'],
  ['attempts', 'attempts'],
  ['inputTokens', 'input_tokens'],
  ['outputTokens', 'output_tokens'],
  ['costUsd', 'cost_usd'],
];

/** `SELECT` list that yields AuditRow objects. */
export const SELECT_ROW = COLUMNS.map(([field, column]) => (field === column ? column : `${column} AS ${field}`)).join(
  ', ',
);
