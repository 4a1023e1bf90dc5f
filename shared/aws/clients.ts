import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Pluggable } from '@smithy/types';

/**
 * Where AWS calls go: one account and region, and the credentials to use there. Domain code
 * holds a scope and hands it to the `shared/aws/` adapters; only they build SDK clients, from
 * it, through `clientOf`. A deployment's own account is a scope without credentials (the
 * function's role); another account is a scope whose credentials come from assuming a role
 * there (the seam the many-accounts work plugs into).
 */
export interface AwsScope {
  readonly region: string;
  /** the account the calls act in; absent: the function's own */
  readonly accountId?: string;
  /** absent: the default chain (the function's execution role) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /**
   * the account-region's API budget (request-budget.ts): every EC2, Auto Scaling and EKS request
   * of the scope's clients takes from it first; absent, requests are not paced
   */
  readonly budget?: ScopeBudget;
}

/**
 * What paces a scope's requests (request-budget.ts RequestBudget): the SDK middleware it puts
 * in each of the scope's clients. An interface, so that only the functions that pace (detection)
 * bundle the budget and its tables.
 */
export interface ScopeBudget {
  middleware(): Pluggable<object, object>;
}

/** The SDK v3 client constructors the adapters use: each takes region and credentials. */
type ClientClass<C> = new (config: { region: string; credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider }) => C;

const clientsByScope = new WeakMap<AwsScope, Map<ClientClass<unknown>, unknown>>();

export function awsScope(scope: AwsScope): AwsScope {
  return Object.freeze({ ...scope });
}

/**
 * The scope's client of one service, built on its first use and kept for the scope's life (a
 * cold start's, for the scope a function builds at load): one client per service, account and
 * region, as the SDK recommends, and only for the services a function calls.
 */
export function clientOf<C>(scope: AwsScope, Client: ClientClass<C>): C {
  let clients = clientsByScope.get(scope);
  if (!clients) {
    clients = new Map();
    clientsByScope.set(scope, clients);
  }
  let client = clients.get(Client) as C | undefined;
  if (!client) {
    client = new Client({ region: scope.region, ...(scope.credentials ? { credentials: scope.credentials } : {}) });
    // the middleware itself paces only EC2, Auto Scaling and EKS requests (by the client's name)
    if (scope.budget) (client as { middlewareStack?: { use(p: Pluggable<object, object>): void } }).middlewareStack?.use(scope.budget.middleware());
    clients.set(Client, client);
  }
  return client;
}
