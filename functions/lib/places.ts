import { awsScope } from '../../shared/aws/clients.js';
import { PlaceScopes } from '../../shared/aws/places.js';
import type { ServiceConfig } from '../../shared/config/service-config.js';

/**
 * The function's scopes, built once at load: its own (the hub account and region, the
 * execution role) and, on first use, one per member account and region it acts in
 * (AssumeRole of its member role, credentials cached until shortly before they expire).
 */
export function placeScopesOf(config: Pick<ServiceConfig, 'region' | 'fleet'>): PlaceScopes {
  const home = awsScope({ region: config.region, ...(config.fleet.hubAccountId ? { accountId: config.fleet.hubAccountId } : {}) });
  return new PlaceScopes(home, config.fleet.roles);
}
