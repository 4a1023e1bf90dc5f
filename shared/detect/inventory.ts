import type { AwsScope } from '../aws/clients.js';
import type { Place } from '../aws/places.js';
import { identifyImage } from '../ami/ami-family.js';
import { listGroupsTagged } from '../aws/auto-scaling-groups.js';
import { describeCluster, listClusterNames as listAllClusterNames } from '../aws/clusters.js';
import { describeImagesById, type ImageView } from '../aws/images.js';
import { describeTemplateVersion } from '../aws/launch-template-versions.js';
import { describeNodegroup, listNodegroupNames } from '../aws/nodegroups.js';
import type { ManagedClusters } from '../ownership/resolve-cluster.js';
import type { SelectorGroup } from './image-match.js';
import { RING_TAG } from '../fleet/ring-membership.js';

/**
 * What one place (an account and region) runs: the managed clusters there, and for each its
 * managed node groups and self-managed Auto Scaling groups (by the `kubernetes.io/cluster/<name>`
 * tag), with the image each group launches today. Calls are batched: one DescribeImages for
 * all groups. Detection across the fleet asks this of every place (detect.ts).
 */
export interface ClusterView {
  /** where the cluster lives */
  place: Place;
  /** the hub's own place: keys, names and inputs stay what they were before member accounts */
  home: boolean;
  name: string;
  endpoint: string;
  certificateAuthority: string;
  serviceIpv4Cidr: string;
  version: string;
  /** the cluster's eks-node-lifecycle/ring tag: the ring of every group that names none (fleet/ring-membership.ts) */
  ring?: string;
}

export interface GroupView {
  /** where the group lives (its cluster's place) */
  place: Place;
  /** the hub's own place (see ClusterView.home) */
  home: boolean;
  cluster: string;
  kind: 'managed' | 'self-managed';
  /** node group name, or Auto Scaling group name */
  name: string;
  /** the account the group lives in (from its ARN): what `self` means in its `ami-owners` */
  accountId?: string;
  autoScalingGroup?: string;
  tags: Record<string, string>;
  launchTemplate?: { id: string; version: number };
  /** managed groups without a custom AMI */
  amiType?: string;
  releaseVersion?: string;
  /**
   * The Kubernetes minor the group runs: a managed node group's `version`; for a group that
   * names its image (self-managed, custom AMI) the image's, once `attachImages` has read it
   * ('' until then, or when the image does not say)
   */
  kubernetesVersion: string;
  /** the cluster's (control plane's) Kubernetes version */
  controlPlaneVersion: string;
  imageId?: string;
  image?: ImageView;
  /** its cluster's eks-node-lifecycle/ring tag, when the cluster carries one (ClusterView.ring) */
  clusterRing?: string;
  /** the group's scaling: desired, min and max nodes */
  size?: { desired: number; min: number; max: number };
}

/** Which place an inventory reads, and whether it is the hub's own (a FleetPlace is one). */
export interface PlaceAt {
  place: Place;
  home: boolean;
}

export interface InventoryPorts {
  /** the place's scope (PlaceScopes.scopeOf(place)) */
  aws: AwsScope;
  /** the clusters the deployment looks after there (FleetPlace.clusters; the hub's: managedClusters) */
  managedClusters: ManagedClusters;
  /** the place `aws` acts in; absent: the hub's own, in `aws`'s account and region */
  at?: PlaceAt;
}

/** The place an inventory reads: the one named, or the hub's own (its scope's account and region). */
export function placeAtOf(ports: Pick<InventoryPorts, 'aws' | 'at'>): PlaceAt {
  return ports.at ?? { place: { accountId: ports.aws.accountId ?? '', region: ports.aws.region }, home: true };
}

/** The clusters this deployment looks after in the place (`only`, if given and managed), by name. */
export async function listClusterNames(ports: Pick<InventoryPorts, 'aws' | 'managedClusters'>, only?: string): Promise<string[]> {
  const names = only ? [only] : await listAllClusterNames(ports.aws);
  return names.filter((n) => ports.managedClusters === '*' || ports.managedClusters.includes(n));
}

export async function listClusters(ports: InventoryPorts, only?: string): Promise<ClusterView[]> {
  const managed = await listClusterNames(ports, only);
  const { place, home } = placeAtOf(ports);
  return Promise.all(
    managed.map(async (name) => {
      const cluster = await describeCluster(ports.aws, name);
      return {
        place,
        home,
        name,
        endpoint: cluster.endpoint ?? '',
        certificateAuthority: cluster.certificateAuthority ?? '',
        serviceIpv4Cidr: cluster.serviceIpv4Cidr ?? '172.20.0.0/16',
        version: cluster.version ?? '',
        ...(cluster.tags?.[RING_TAG] !== undefined ? { ring: cluster.tags[RING_TAG] } : {}),
      };
    }),
  );
}

/** `only`: the groups wanted, by name (the others are not described, nor their templates read). */
export async function listGroups(ports: InventoryPorts, cluster: ClusterView, only?: (name: string) => boolean): Promise<GroupView[]> {
  const groups: GroupView[] = [];
  const wanted = only ?? (() => true);
  // managed node groups
  const nodegroupNames = (await listNodegroupNames(ports.aws, cluster.name)).filter(wanted);
  const nodegroups = await Promise.all(nodegroupNames.map((nodegroupName) => describeNodegroup(ports.aws, cluster.name, nodegroupName)));
  for (const ng of nodegroups) {
    const lt = ng.launchTemplate?.id && ng.launchTemplate.version ? { id: ng.launchTemplate.id, version: Number(ng.launchTemplate.version) } : undefined;
    const custom = lt && ng.amiType === 'CUSTOM' ? await describeTemplateVersion(ports.aws, lt.id, String(lt.version)) : undefined;
    const sized = ng.desiredSize !== undefined || ng.minSize !== undefined || ng.maxSize !== undefined;
    groups.push({
      place: cluster.place,
      home: cluster.home,
      cluster: cluster.name,
      kind: 'managed',
      name: ng.name,
      ...(ng.accountId ? { accountId: ng.accountId } : {}),
      autoScalingGroup: ng.autoScalingGroups[0],
      tags: ng.tags,
      ...(lt ? { launchTemplate: lt } : {}),
      ...(ng.amiType && ng.amiType !== 'CUSTOM' ? { amiType: ng.amiType, releaseVersion: ng.releaseVersion } : {}),
      kubernetesVersion: ng.version ?? cluster.version,
      controlPlaneVersion: cluster.version,
      ...(cluster.ring !== undefined ? { clusterRing: cluster.ring } : {}),
      ...(custom?.imageId ? { imageId: custom.imageId } : {}),
      ...(sized ? { size: { desired: ng.desiredSize ?? 0, min: ng.minSize ?? 0, max: ng.maxSize ?? 0 } } : {}),
    });
  }
  // self-managed groups: tagged for the cluster, not EKS's
  for (const g of await listGroupsTagged(ports.aws, `kubernetes.io/cluster/${cluster.name}`)) {
    if (g.tags['eks:nodegroup-name'] || !wanted(g.name)) continue;
    if (!g.launchTemplate) continue;
    const version = await describeTemplateVersion(ports.aws, g.launchTemplate.id, g.launchTemplate.version);
    if (!version) continue;
    groups.push({
      place: cluster.place,
      home: cluster.home,
      cluster: cluster.name,
      kind: 'self-managed',
      name: g.name,
      ...(g.accountId ? { accountId: g.accountId } : {}),
      autoScalingGroup: g.name,
      tags: g.tags,
      launchTemplate: { id: g.launchTemplate.id, version: version.version },
      // what the group's image is built for, not the cluster's: a control plane upgrade moves no group by itself
      kubernetesVersion: '',
      controlPlaneVersion: cluster.version,
      ...(cluster.ring !== undefined ? { clusterRing: cluster.ring } : {}),
      ...(version.imageId ? { imageId: version.imageId } : {}),
      size: { desired: g.desired, min: g.min, max: g.max },
    });
  }
  return groups;
}

/**
 * One DescribeImages (per 100 ids) for every group's current image, and the Kubernetes minor it
 * is built for. Image ids are regional and the image may be private to the account: `scope` is
 * the groups' place's, and the groups are all of that place.
 */
export async function attachImages(scope: AwsScope, groups: GroupView[]): Promise<void> {
  const ids = [...new Set(groups.map((g) => g.imageId).filter((id): id is string => Boolean(id)))];
  const images = new Map<string, ImageView>();
  for (const image of await describeImagesById(scope, ids)) images.set(image.ImageId!, image);
  for (const g of groups) {
    if (!g.imageId || !images.has(g.imageId)) continue;
    g.image = images.get(g.imageId)!;
    // a custom AMI's managed node group reports the version it was created with; the image tells what runs
    const minor = identifyImage(g.image)?.kubernetesVersion;
    if (minor) g.kubernetesVersion = minor;
  }
}

/**
 * The place's managed clusters' node groups with their tags only — no launch template or
 * image read: what screening an AMI event needs (see image-match.ts), a fraction of an
 * inventory. A member place's groups say where they are; the hub's do not.
 */
export async function listGroupTags(ports: Pick<InventoryPorts, 'aws' | 'managedClusters' | 'at'>): Promise<SelectorGroup[]> {
  const groups: SelectorGroup[] = [];
  const at = placeAtOf(ports);
  const where = at.home ? {} : { place: at.place };
  for (const cluster of await listClusterNames(ports)) {
    for (const nodegroupName of await listNodegroupNames(ports.aws, cluster)) {
      const ng = await describeNodegroup(ports.aws, cluster, nodegroupName);
      groups.push({ ...where, cluster, kind: 'managed', name: nodegroupName, ...(ng.accountId ? { accountId: ng.accountId } : {}), tags: ng.tags });
    }
    for (const g of await listGroupsTagged(ports.aws, `kubernetes.io/cluster/${cluster}`)) {
      if (g.tags['eks:nodegroup-name']) continue;
      groups.push({ ...where, cluster, kind: 'self-managed', name: g.name, ...(g.accountId ? { accountId: g.accountId } : {}), tags: g.tags });
    }
  }
  return groups;
}

/**
 * How a group's place is written on what leaves detection (plans, rollout inputs, debounce
 * windows, screening results): `{ region, accountId }` for a member place, nothing for the
 * hub's own — the rule of every input's placeFields (events/eventbridge.ts): absent is the
 * hub's own, so a single-account deployment's inputs, names and keys are what they were.
 */
export function placeFieldsOf(at: PlaceAt): { accountId?: string; region?: string } {
  return at.home ? {} : { accountId: at.place.accountId, region: at.place.region };
}

/** A group as detection's outputs and the debounce windows name it: its place's fields (placeFieldsOf), cluster and name. */
export interface GroupRef {
  accountId?: string;
  region?: string;
  cluster: string;
  group: string;
}
