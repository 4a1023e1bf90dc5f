import { awsScope } from '../shared/aws/clients.js';
import { now } from '../shared/clock.js';
import { loadServiceConfig } from '../shared/config/service-config.js';
import { probeCluster } from '../shared/doctor/probe-cluster.js';
import { DoctorProbeInputSchema } from '../shared/events/doctor.js';
import { KubeClients } from '../shared/kube/client.js';
import { EksTokenCache } from '../shared/kube/eks-token.js';
import { lambdaHandler } from './lib/handler.js';

/**
 * Invoked by the chat command functions for `doctor`: what the service sees of one cluster's
 * Kubernetes API — from a function in the service's Kubernetes group and, with the vpc params,
 * in the VPC, as the drains are; read only. The chat functions stay outside the VPC (Slack).
 */
const config = loadServiceConfig();
const aws = awsScope({ region: config.region });
const ports = { aws, kube: new KubeClients(aws, new EksTokenCache({ region: config.region, now })) };

export const handler = lambdaHandler({
  schema: DoctorProbeInputSchema,
  correlate: (input) => ({ cluster: input.cluster }),
  run: (input) => probeCluster(ports, input.cluster),
});
