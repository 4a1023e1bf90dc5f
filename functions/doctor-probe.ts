import { awsScope } from '../shared/aws/clients.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { probeCluster } from '../shared/doctor/probe-cluster.js';
import { DoctorProbeInputSchema } from '../shared/events/doctor.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { lambdaHandler } from './lib/handler.js';
import { placeScopesOf } from './lib/places.js';

/**
 * Invoked by the chat command functions for `doctor`: what the service sees of one cluster's
 * Kubernetes API — from a function in the service's Kubernetes group and, with the vpc params,
 * in the VPC, as the drains are; read only. The chat functions stay outside the VPC (Slack).
 */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const ports = { aws, kube: new KubeClients(aws, new EksTokenCache({ region: config.region, now })) };
const places = placeScopesOf(config);
/** A member's cluster is probed with the member role's credentials (its scope and its EKS token), one set of clients per place. */
const memberPorts = new Map<string, typeof ports>();

function portsAt(input: { accountId?: string; region?: string }): typeof ports {
  if (!input.accountId || places.isHome(input) && (input.region ?? config.region) === config.region) return ports;
  const scope = places.scopeOf(input);
  const key = `${input.accountId}/${scope.region}`;
  let found = memberPorts.get(key);
  if (!found) memberPorts.set(key, (found = { aws: scope, kube: new KubeClients(scope, new EksTokenCache({ region: scope.region, ...(scope.credentials ? { credentials: scope.credentials } : {}), now })) }));
  return found;
}

export const handler = lambdaHandler({
  schema: DoctorProbeInputSchema,
  correlate: (input) => ({ cluster: input.cluster, ...(input.accountId ? { accountId: input.accountId, region: input.region } : {}) }),
  run: (input) => probeCluster(portsAt(input), input.cluster),
});
