import { loadServiceConfig } from '../shared/config/service-config.js';
import { probeCluster } from '../shared/doctor/probe-cluster.js';
import { DoctorProbeInputSchema } from '../shared/events/doctor.js';
import { lambdaHandler } from './lib/handler.js';
import { kubeOfPlaces } from './lib/kube-places.js';
import { lifecyclePlacesOf } from './lib/places.js';

/**
 * Invoked by the chat command functions for `doctor`: what the service sees of one cluster's
 * Kubernetes API — from a function in the service's Kubernetes group and, with the vpc params,
 * in the VPC, as the drains are; read only; a member's cluster as its member role sees it. The
 * chat functions stay outside the VPC (Slack).
 */
const config = loadServiceConfig();
const places = lifecyclePlacesOf(config);
const kubeOf = kubeOfPlaces(places.scopes);

export const handler = lambdaHandler({
  schema: DoctorProbeInputSchema,
  correlate: (input) => ({ cluster: input.cluster, ...(input.accountId ? { accountId: input.accountId, region: input.region } : {}) }),
  run: (input) => {
    const { place } = places.placeOfInput(input);
    return probeCluster({ aws: places.scopes.scopeOf(place), kube: kubeOf(place) }, input.cluster);
  },
});
