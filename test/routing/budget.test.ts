import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/index.js';
import { BudgetStore, Policy, PolicySchema } from '../../src/policy/index.js';
import { RouterError, type Router } from '../../src/routing/index.js';
import { chargeUsd, sampleFor } from '../../src/server/tools/sample-for.js';
import { startFakeProviders, type FakeProviders } from '../fixtures/fake-providers/index.js';
import { tempDir } from '../helpers/paths.js';
import { ASK, models, rejection, router } from './helpers.js';

/**
 * What a sample call charges the agent's model budget, against fake providers over
 * real HTTP and a real budget table: failures that providers bill, and targets
 * without a price, are never charged $0.
 */
const PRICES = { 'an/claude-priced': { input: 3, output: 15 }, 'oa/gpt-b': { input: 1, output: 2 } };
let fake: FakeProviders;
let db: Db;
let budgets: BudgetStore;
let r: Router;
beforeAll(async () => {
  fake = await startFakeProviders();
  r = router(
    models(
      fake,
      {
        priced: ['an/claude-priced'],
        mixed: ['oa/gpt-free', 'an/claude-priced'],
        failover: ['oa/gpt-truncated', 'oa/gpt-b'],
        down: ['oa/gpt-down', 'oa/gpt-b'],
      },
      { prices: PRICES },
    ),
  );
  db = openDatabase(path.join(tempDir(), 'budget.db'));
  budgets = new BudgetStore(db);
});
afterAll(async () => {
  db.close();
  await fake.close();
});
beforeEach(() => fake.reset());

const caller = (agent: string) => ({
  agent,
  policy: new Policy(agent, `${agent}.json`, PolicySchema.parse({ allow: ['*'], models: { budgetUsd: '10/1d' } })),
});
/** The USD the agent's budget holds for its last call. */
const charged = (agent: string) =>
  db.prepare('SELECT usd FROM budget_events WHERE agent = ? ORDER BY id DESC LIMIT 1').pluck().get(agent) as number;
const reserved = (route: string) => r.estimateCostUsd({ ...ASK, route }).costUsd!;

describe('budget charges', () => {
  it('a priced answer is charged what its usage costs', async () => {
    const outcome = await sampleFor(caller('a1'), r, budgets, { ...ASK, route: 'priced' }, {});
    expect(outcome.costUsd).toBe((11 * 3 + 7 * 15) / 1e6);
    expect(charged('a1')).toBe(outcome.costUsd);
  });

  it('an unpriced target inside a priced route is marked unpriced and charged the reservation, not $0', async () => {
    const outcome = await sampleFor(caller('a2'), r, budgets, { ...ASK, route: 'mixed' }, {});
    expect(outcome).toMatchObject({ target: 'oa/gpt-free', costUsd: null, unpriced: true });
    expect(outcome.attempts).toEqual([expect.objectContaining({ target: 'oa/gpt-free', unpriced: true })]);
    expect(reserved('mixed')).toBeGreaterThan(0);
    expect(charged('a2')).toBe(reserved('mixed'));
  });

  it('a stream cut after output fails, and keeps its reservation (usage unknown, output billed)', async () => {
    fake.script('claude-priced', { chunks: ['The answer ', 'is ', '42'], cut: 'after-first-token' });
    const error = await rejection(
      sampleFor(caller('a3'), r, budgets, { ...ASK, route: 'priced' }, { onToken: () => undefined }),
    );
    expect(error).toBeInstanceOf(RouterError);
    expect((error as RouterError).billedFailures).toEqual([{ target: 'an/claude-priced', usage: undefined }]);
    expect((error as RouterError).attempts[0]).toMatchObject({ kind: 'stream_cut', billed: true });
    expect(charged('a3')).toBe(reserved('priced'));
  });

  it('a 200 whose body broke is billed even though the next target answered', async () => {
    fake.script('gpt-truncated', { truncatedBody: true });
    const outcome = await sampleFor(caller('a4'), r, budgets, { ...ASK, route: 'failover' }, {});
    expect(outcome.target).toBe('oa/gpt-b');
    expect(outcome.attempts[0]).toMatchObject({ target: 'oa/gpt-truncated', kind: 'bad_response', billed: true });
    expect(outcome.billedFailures).toEqual([{ target: 'oa/gpt-truncated', usage: undefined }]);
    expect(charged('a4')).toBeCloseTo(outcome.costUsd! + reserved('failover'), 12);
  });

  it('targets that refused before answering cost nothing', async () => {
    fake.always('gpt-down', { status: 401 });
    fake.always('gpt-b', { status: 401 });
    await rejection(sampleFor(caller('a5'), r, budgets, { ...ASK, route: 'down' }, {}));
    expect(charged('a5')).toBe(0);
  });

  it('a billed failure with its final usage reported is charged that usage, priced', () => {
    const usage = { inputTokens: 1000, outputTokens: 2000 };
    expect(chargeUsd(r, 0.5, undefined, [{ target: 'an/claude-priced', usage }])).toBe((1000 * 3 + 2000 * 15) / 1e6);
    // An unpriced target's billed failure is charged the reservation, like its answer would be.
    expect(chargeUsd(r, 0.5, undefined, [{ target: 'oa/gpt-free', usage }])).toBe(0.5);
  });
});
