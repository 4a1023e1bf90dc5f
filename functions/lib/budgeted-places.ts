import { PlaceScopes } from '../../shared/aws/places.js';
import { DEFAULT_API_SHARE, RequestBudget } from '../../shared/aws/request-budget.js';
import type { ServiceConfig } from '../../shared/config/service-config.js';
import { homeScopeOf } from './places.js';

/**
 * The scopes of a function that reads the whole fleet (detection, AMI event screening): as
 * placeScopesOf's, each pacing its EC2, Auto Scaling and EKS requests to the configured share of
 * its place's documented rates (shared/aws/request-budget.ts; API_BUDGET_PERCENT, default 50 %).
 * The budget lives in the function's memory: each of the `environmentsAtOnce` it may run in at
 * once (its reserved concurrency) gets its part, so that together they stay within the share.
 */
export function budgetedPlaceScopesOf(config: Pick<ServiceConfig, 'region' | 'fleet'>, environmentsAtOnce = 1): PlaceScopes {
  const share = (config.fleet.apiShare ?? DEFAULT_API_SHARE) / environmentsAtOnce;
  return new PlaceScopes(homeScopeOf(config, { budget: new RequestBudget(share) }), config.fleet.roles, undefined, () => new RequestBudget(share));
}
