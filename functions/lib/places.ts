import { awsScope } from '../../shared/aws/clients.js';
import { PlaceScopes } from '../../shared/aws/places.js';
import { RequestBudget } from '../../shared/aws/request-budget.js';
import type { ServiceConfig } from '../../shared/config/service-config.js';

/**
 * The function's scopes, built once at load: its own (the hub account and region, the
 * execution role) and, on first use, one per member account and region it acts in
 * (AssumeRole of its member role, credentials cached until shortly before they expire). Each
 * paces its EC2, Auto Scaling and EKS requests to the configured share of the place's
 * documented rates (shared/aws/request-budget.ts; API_BUDGET_PERCENT, default 50 %).
 */
export function placeScopesOf(config: Pick<ServiceConfig, 'region' | 'fleet'>): PlaceScopes {
  const budget = new RequestBudget(config.fleet.apiShare);
  const home = awsScope({ region: config.region, ...(config.fleet.hubAccountId ? { accountId: config.fleet.hubAccountId } : {}), budget });
  return new PlaceScopes(home, config.fleet.roles, undefined, budget.share);
}
