import { GatewayError, type GatewayErrorCode } from '../errors.js';
import type { ProviderError, ProviderErrorKind } from './provider-error.js';
import type { Attempt, BilledFailure } from './types.js';

/** What a RouterError carries in `data`, for the tool result and the audit row. */
export interface RouterErrorData {
  route: string | undefined;
  attempts: Attempt[];
  /** The kind of the error that ended the call. */
  kind: ProviderErrorKind | undefined;
  /** Text already streamed to the caller when a committed stream broke. */
  partialText?: string;
  /** Failed attempts the providers bill all the same (they had started answering). */
  billedFailures: BilledFailure[];
}

/**
 * A sample call that failed, with every attempt made. Codes: `invalid_params` (the
 * request is wrong: unknown route, bad params, a 400 from the provider, a prompt too
 * long for every target), `upstream_unavailable` (every target failed in a way that may
 * pass: 429, 5xx, network), `timeout` (the deadline ran out), `upstream_error` (auth,
 * billing, unknown model, or a stream cut after output), `cancelled`.
 */
export class RouterError extends GatewayError {
  readonly attempts: Attempt[];
  readonly route: string | undefined;
  readonly kind: ProviderErrorKind | undefined;
  readonly billedFailures: BilledFailure[];

  constructor(
    code: GatewayErrorCode,
    message: string,
    options: {
      route?: string;
      attempts?: Attempt[];
      kind?: ProviderErrorKind;
      partialText?: string;
      billedFailures?: BilledFailure[];
      cause?: unknown;
    },
  ) {
    const data: RouterErrorData = {
      route: options.route,
      attempts: options.attempts ?? [],
      kind: options.kind,
      billedFailures: options.billedFailures ?? [],
    };
    if (options.partialText !== undefined) data.partialText = options.partialText;
    super(code, message, { cause: options.cause, data });
    this.name = 'RouterError';
    this.attempts = data.attempts;
    this.route = options.route;
    this.kind = options.kind;
    this.billedFailures = data.billedFailures;
  }
}

export function isRouterError(value: unknown): value is RouterError {
  return value instanceof RouterError;
}

const MAY_PASS: ReadonlySet<ProviderErrorKind> = new Set([
  'rate_limited',
  'overloaded',
  'server',
  'conflict',
  'network',
  'stream_cut',
  'bad_response',
]);

/** The error a chain ends with, from the error that ended it and everything tried. */
export function chainError(
  route: string,
  last: ProviderError | undefined,
  attempts: Attempt[],
  billedFailures: BilledFailure[] = [],
): RouterError {
  const options = { route, attempts, kind: last?.kind, billedFailures, cause: last };
  if (!last) {
    return new RouterError(
      'upstream_unavailable',
      `route "${route}": no target could be tried (${summary(attempts)})`,
      options,
    );
  }
  if (last.kind === 'cancelled') return new RouterError('cancelled', `route "${route}": cancelled`, options);
  if (last.committed) {
    return new RouterError('upstream_error', `route "${route}": ${last.message}; the answer is incomplete`, {
      ...options,
      partialText: last.partialText,
    });
  }
  if (last.kind === 'invalid_request') {
    return new RouterError(
      'invalid_params',
      `route "${route}": the provider rejected the request: ${last.message}`,
      options,
    );
  }
  if (last.kind === 'context_length') {
    return new RouterError(
      'invalid_params',
      `route "${route}": the prompt is too long for every target with a larger context window (${summary(attempts)})`,
      options,
    );
  }
  const message = `route "${route}": no target answered (${summary(attempts)})`;
  if (last.kind === 'timeout') return new RouterError('timeout', message, options);
  const transient = attempts.some((a) => a.kind !== undefined && (MAY_PASS.has(a.kind) || a.kind === 'timeout'));
  return new RouterError(transient ? 'upstream_unavailable' : 'upstream_error', message, options);
}

function summary(attempts: Attempt[]): string {
  return attempts.map((a) => `${a.target}: ${a.status === 'ok' ? 'ok' : (a.error ?? a.status)}`).join('; ');
}
