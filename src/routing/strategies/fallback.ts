import type { Strategy } from './strategy.js';

/** The route's order, as written. */
export const fallback: Strategy = ({ route }) => route.targets.map((target) => ({ target }));
