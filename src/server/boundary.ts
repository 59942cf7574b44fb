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
      error.code === 'not_found' || error.code === 'invalid_params'
        ? ProtocolErrorCode.InvalidParams
        : error.code === 'capability_missing'
          ? ProtocolErrorCode.MissingRequiredClientCapability
          : ProtocolErrorCode.InternalError;
    return new ProtocolError(code, `switchboard: ${error.message}`, { reason: error.code });
  }
  return new ProtocolError(ProtocolErrorCode.InternalError, `switchboard: ${errorMessage(error)}`);
}

/**
 * A tools/call failure as the agent sees it. Failures of the gateway or of reaching the
 * upstream become an `isError` result, which the model can read and act on; a JSON-RPC
 * error the upstream itself answered is relayed as that error.
 */
export function toolFailure(error: unknown): { content: { type: 'text'; text: string }[]; isError: true } {
  if (error instanceof GatewayError && error.rpcCode === undefined && error.code !== 'not_found') {
    return { content: [{ type: 'text', text: `switchboard: ${error.message}` }], isError: true };
  }
  throw toProtocolError(error);
}
