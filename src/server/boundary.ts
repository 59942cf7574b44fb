import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { GatewayError, errorMessage } from '../errors.js';

/**
 * The one place where gateway errors become protocol answers. Upstream JSON-RPC errors
 * are relayed with their own code; the gateway's own failures get the closest
 * JSON-RPC code and a message that names the server and the cause.
 */
export function toProtocolError(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (error instanceof GatewayError) {
    if (error.rpcCode !== undefined) return new ProtocolError(error.rpcCode, error.message, error.data);
    const code =
      error.code === 'not_found' || error.code === 'invalid_params' || error.code === 'denied'
        ? ProtocolErrorCode.InvalidParams
        : error.code === 'capability_missing'
          ? ProtocolErrorCode.MissingRequiredClientCapability
          : ProtocolErrorCode.InternalError;
    return new ProtocolError(code, `switchboard: ${error.message}`, { reason: error.code });
  }
  return new ProtocolError(ProtocolErrorCode.InternalError, `switchboard: ${errorMessage(error)}`);
}

type ToolError = {
  content: { type: 'text'; text: string }[];
  isError: true;
  _meta?: Record<string, unknown>;
};

/**
 * A tools/call failure as the agent sees it. Failures of the gateway, of reaching the
 * upstream, a used-up quota or a declined approval become an `isError` result the model
 * can read and act on (a quota refusal carries `switchboard/retryAfterMs` in `_meta`);
 * a JSON-RPC error the upstream answered, or a policy refusal, is a protocol error.
 */
export function toolFailure(error: unknown): ToolError {
  if (error instanceof GatewayError && error.rpcCode === undefined && !['not_found', 'denied'].includes(error.code)) {
    const result: ToolError = { content: [{ type: 'text', text: `switchboard: ${error.message}` }], isError: true };
    const retryAfterMs = (error.data as { retryAfterMs?: number } | undefined)?.retryAfterMs;
    if (retryAfterMs !== undefined) result._meta = { 'switchboard/retryAfterMs': retryAfterMs };
    return result;
  }
  throw toProtocolError(error);
}
