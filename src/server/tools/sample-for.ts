import { GatewayError, errorMessage } from '../../errors.js';
import { formatDelay, type BudgetStore, type Policy } from '../../policy/index.js';
import {
  isRouterError,
  parseSampleParams,
  type BilledFailure,
  type Router,
  type SampleOptions,
  type SampleOutcome,
} from '../../routing/index.js';

/** The agent a sample is run for: `switchboard__sample`'s caller, or the agent whose call made an upstream ask. */
export interface SampleCaller {
  agent: string;
  /** The agent's policy as it is now; none means nothing is allowed (fail closed). */
  policy: Policy | undefined;
}

/**
 * Runs one sample for an agent: the route must be one its policy allows
 * (`models.routes`), and the estimated cost must fit its budget (`models.budgetUsd`),
 * reserved before the call and settled after to what it is charged (see `chargeUsd`),
 * whether the call succeeded or failed.
 */
export async function sampleFor(
  caller: SampleCaller,
  router: Router,
  budgets: BudgetStore | undefined,
  args: unknown,
  options: Pick<SampleOptions, 'signal' | 'stream' | 'onToken'>,
): Promise<SampleOutcome> {
  let params;
  try {
    params = parseSampleParams(args);
  } catch (error) {
    throw new GatewayError('invalid_params', errorMessage(error));
  }
  const route = router.resolveRoute(params.route);
  // The parsed params go on to the router as they are (it does not parse them again).
  params.route = route;
  const policy = caller.policy;
  if (!policy) throw new GatewayError('denied', `agent "${caller.agent}" has no policy file, so it may not sample`);
  const allowed = policy.models?.routes;
  if (allowed && !allowed.includes(route)) {
    throw new GatewayError(
      'denied',
      `route "${route}" is not allowed for agent "${caller.agent}" (models.routes: ${allowed.join(', ')})`,
    );
  }
  let reservation: { id: number; usd: number } | undefined;
  const budget = policy.budget;
  if (budget && budgets) {
    const estimate = router.estimateCostUsd(params);
    if (estimate.costUsd === null) {
      throw new GatewayError(
        'denied',
        `route "${route}" has no priced target, so the model budget of agent "${caller.agent}" cannot be kept (add models.prices)`,
      );
    }
    const outcome = budgets.reserve(caller.agent, budget, estimate.costUsd);
    if (!outcome.ok) {
      throw new GatewayError(
        'quota',
        `model budget "${budget.text}" for agent "${caller.agent}" is spent ($${outcome.spentUsd.toFixed(4)} used); retry in ${formatDelay(outcome.retryAfterMs)}`,
        { data: { retryAfterMs: outcome.retryAfterMs } },
      );
    }
    reservation = { id: outcome.reservation, usd: estimate.costUsd };
  }
  try {
    const outcome = await router.sample(params, options);
    if (reservation)
      budgets!.settle(reservation.id, chargeUsd(router, reservation.usd, outcome, outcome.billedFailures));
    return outcome;
  } catch (error) {
    if (reservation) {
      const billed = isRouterError(error) ? error.billedFailures : [];
      budgets!.settle(reservation.id, chargeUsd(router, reservation.usd, undefined, billed));
    }
    throw error;
  }
}

/**
 * What a call is charged against its agent's budget, in USD.
 *
 * - The answer costs what its usage costs at its target's price. A target with no
 *   price (in a route that has priced ones) is charged `reservedUsd`, the estimate
 *   reserved before the call (the dearest priced target of the route at `maxTokens`):
 *   unknown is not free.
 * - A failed attempt the provider had started answering (a streamed token, or a 200
 *   whose body broke) is billed by the provider: charged at the cost of the usage it
 *   reported when it reported its final usage, and at `reservedUsd` when that is
 *   unknown (a stream cut mid-answer) or the target has no price.
 * - Attempts refused before any answer (HTTP errors, network errors, timeouts before
 *   the first token) are not charged: providers do not bill them.
 */
export function chargeUsd(
  router: Pick<Router, 'costOf'>,
  reservedUsd: number,
  answer: Pick<SampleOutcome, 'costUsd' | 'unpriced'> | undefined,
  billedFailures: readonly BilledFailure[],
): number {
  let usd = 0;
  if (answer) usd += answer.unpriced || answer.costUsd === null ? reservedUsd : answer.costUsd;
  for (const failure of billedFailures) {
    const cost = failure.usage ? router.costOf(failure.target, failure.usage).costUsd : null;
    usd += cost ?? reservedUsd;
  }
  return Math.round(usd * 1e9) / 1e9;
}
