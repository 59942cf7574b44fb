import { ProtocolError, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import { GatewayError, errorMessage } from '../errors.js';

/** What went wrong with a request to one upstream, as a GatewayError that names it. */
export function requestError(server: string, error: unknown, cancelled: boolean): GatewayError {
  if (error instanceof GatewayError) return error;
  if (cancelled) return new GatewayError('cancelled', `call to "${server}" was cancelled`, { cause: error });
  if (error instanceof ProtocolError) {
    return new GatewayError('upstream_error', error.message, { cause: error, rpcCode: error.code, data: error.data });
  }
  if (error instanceof SdkError) {
    if (error.code === SdkErrorCode.ConnectionClosed || error.code === SdkErrorCode.NotConnected) {
      return new GatewayError('upstream_unavailable', `upstream "${server}" closed the connection`, { cause: error });
    }
  }
  return new GatewayError('upstream_error', `upstream "${server}": ${errorMessage(error)}`, { cause: error });
}

/**
 * How long to wait before restart number `attempt` (0-based): exponential from 250 ms,
 * capped at 30 s, with jitter so that servers that died together do not restart in step.
 */
export function restartDelay(attempt: number, random: number = Math.random()): number {
  const base = Math.min(30_000, 250 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.5 + random / 2));
}
