/**
 * The one error family of the gateway. Every stage throws a GatewayError (or lets a
 * foreign error be wrapped into one); `server/` maps them to JSON-RPC errors or tool
 * results at the boundary, and nowhere else.
 */
export type GatewayErrorCode =
  | 'config_invalid'
  | 'not_found'
  | 'invalid_params'
  | 'upstream_unavailable'
  | 'upstream_error'
  | 'timeout'
  | 'cancelled'
  | 'capability_missing'
  | 'ambiguous_caller'
  | 'denied'
  | 'quota'
  | 'approval_denied'
  | 'internal';

/** Codes whose failure may succeed when tried again later. */
const RETRYABLE: ReadonlySet<GatewayErrorCode> = new Set(['upstream_unavailable', 'timeout']);

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly retryable: boolean;
  /** A JSON-RPC error code an upstream answered with, kept so it can be relayed unchanged. */
  readonly rpcCode: number | undefined;
  readonly data: unknown;

  constructor(
    code: GatewayErrorCode,
    message: string,
    options: { cause?: unknown; rpcCode?: number; data?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.retryable = RETRYABLE.has(code);
    this.rpcCode = options.rpcCode;
    this.data = options.data;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/** A readable one-line message for anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
