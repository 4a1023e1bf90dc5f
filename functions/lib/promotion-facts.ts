import { type AlarmState, describeAlarms } from '../../shared/aws/alarms.js';
import type { AwsScope } from '../../shared/aws/clients.js';
import type { FleetRecords } from '../../shared/aws/fleet-records.js';
import { describeImagesById } from '../../shared/aws/images.js';
import { instancesRunning } from '../../shared/aws/instances.js';
import { getParameters } from '../../shared/aws/parameters.js';
import type { Place } from '../../shared/aws/places.js';
import { now } from '../../shared/clock.js';
import { parameterNamesFor } from '../../shared/ami/ssm-parameters.js';
import { clusterFacts } from '../../shared/fleet/cluster-facts.js';
import { judgeRecall, type Recall, type RecallFacts } from '../../shared/fleet/recall.js';
import type { Release } from '../../shared/fleet/release.js';
import { evaluateHealth, type HealthCriteria, type HealthReport } from '../../shared/fleet/workload-health.js';
import type { CoreV1Api } from '../../shared/kube/api.js';
import { callKube } from '../../shared/kube/client.js';
import { instanceIdOfNode } from '../../shared/kube/find-node.js';
import { clustersNamedBy } from '../../shared/ownership/resolve-cluster.js';

/**
 * The facts a fleet promotion decides from (issue 21), gathered in the cluster's place: its
 * health against the previous image, and whether AWS took the release back. Thin: reads
 * through adapters, judges with shared/fleet.
 */
export interface PromotionFactPorts {
  /** the scope of a place (undefined: the hub's own) */
  scopeOf: (place: Place | undefined) => AwsScope;
  /** the Kubernetes API of a place's clusters (kube-places.ts `kubeOfPlaces`) */
  kubeOf: (place: Place | undefined) => { core(cluster: string): Promise<CoreV1Api> };
  /** the fleet table, in the hub: restart samples between evaluations */
  fleet: Pick<FleetRecords, 'restartSamples' | 'saveRestartSamples'>;
}

export interface ClusterHealthInput {
  place?: Place;
  cluster: string;
  ring: string;
  /** the release's images in the cluster's place: a node is new when its instance runs one */
  releaseImageIds: readonly string[];
  criteria: HealthCriteria;
  now: Date;
}

/**
 * One evaluation of a cluster: one LIST of nodes and one of pods (not finished) from its API,
 * one DescribeInstances of the place's live instances on the release's images, a GetItem of
 * the restart samples (a PutItem every half restart window), and DescribeAlarms of the
 * criteria's alarms (one per 100). Eviction failures are not read: the drains table keys a
 * drain by instance (no per-cluster read), and its `failed` is also how a rollout gives back
 * a drain it abandons — a failed eviction fails the rollout's batch instead. Any failure
 * throws: the caller marks the cluster unreadable.
 */
export async function gatherClusterHealth(ports: PromotionFactPorts, input: ClusterHealthInput): Promise<HealthReport> {
  const { place, cluster, criteria } = input;
  const at = input.now;
  const scope = ports.scopeOf(place);
  const core = await ports.kubeOf(place).core(cluster);
  const [nodes, pods, instances, samples, alarms] = await Promise.all([
    callKube(cluster, 'list nodes', () => core.listNode()),
    // field selectors on status.phase are supported for pods (as spec.nodeName is)
    callKube(cluster, 'list pods', () => core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' })),
    input.releaseImageIds.length > 0 ? instancesRunning(scope, input.releaseImageIds) : Promise.resolve([]),
    ports.fleet.restartSamples(cluster, place),
    criteria.alarms.length > 0 ? describeAlarms(scope, criteria.alarms) : Promise.resolve([] as AlarmState[]),
  ]);
  const gathered = clusterFacts({
    cluster,
    nodes: nodes.items.map((node) => ({ node, ...optional('instanceId', instanceIdOfNode(node)) })),
    pods: pods.items,
    releaseInstances: instances.map((i) => ({ instanceId: i.instanceId, ...optional('launchTime', i.launchTime), clusters: clustersNamedBy(i.tags) })),
    samples,
    criteria,
    now: at,
  });
  if (gathered.samples) await ports.fleet.saveRestartSamples(cluster, place, gathered.samples, at);
  return evaluateHealth({ ...gathered.facts, alarms }, criteria, at);
}

export interface RecallInput {
  release: Release;
  /** the places the release runs in, with its images there (the groups' targets) */
  places: readonly { place?: Place; imageIds: readonly string[] }[];
  /** default: the clock's now */
  now?: Date;
}

/**
 * Has AWS taken the release back? Per place: the recommended release parameter of an
 * EKS-optimized line (one GetParameters) and the release's images (one DescribeImages, deprecated
 * ones included). See shared/fleet/recall.ts for what counts.
 */
export async function checkRecall(ports: Pick<PromotionFactPorts, 'scopeOf'>, input: RecallInput): Promise<Recall | undefined> {
  const { release } = input;
  const parameter = release.source === 'eks-optimized' ? parameterNamesFor(release.identity).release : undefined;
  const facts: RecallFacts[] = await Promise.all(
    input.places.map(async ({ place, imageIds }) => {
      const scope = ports.scopeOf(place);
      const [recommended, images] = await Promise.all([
        parameter ? getParameters(scope, [parameter]).then((values) => values.get(parameter)) : Promise.resolve(undefined),
        imageIds.length > 0 ? describeImagesById(scope, imageIds) : Promise.resolve([]),
      ]);
      return {
        ...optional('place', place),
        ...(parameter ? { parameter, ...optional('recommended', recommended) } : {}),
        images: imageIds.map((imageId) => {
          const image = images.find((i) => i.ImageId === imageId);
          return { imageId, ...(image ? { found: true, ...optional('deprecationTime', image.DeprecationTime), ...optional('state', image.State) } : { found: false }) };
        }),
      };
    }),
  );
  return judgeRecall(release, facts, input.now ?? now());
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
