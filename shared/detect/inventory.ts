import { type AutoScalingClient, paginateDescribeAutoScalingGroups } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, DescribeNodegroupCommand, type EKSClient, paginateListClusters, paginateListNodegroups } from '@aws-sdk/client-eks';
import { identifyImage } from '../ami/ami-family.js';
import { accountOfArn } from '../ami/image-provenance.js';
import { callAws } from '../aws/call.js';
import { describeTemplateVersion } from '../aws/launch-template-versions.js';
import type { ManagedClusters } from '../ownership/resolve-cluster.js';
import type { SelectorGroup } from './image-match.js';

/**
 * What the account runs: the managed clusters, and for each its managed node groups and
 * self-managed Auto Scaling groups (by the `kubernetes.io/cluster/<name>` tag), with the
 * image each group launches today. Calls are batched: one DescribeImages for all groups.
 */
export interface ClusterView {
  name: string;
  endpoint: string;
  certificateAuthority: string;
  serviceIpv4Cidr: string;
  version: string;
}

export interface GroupView {
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
  image?: Image;
  /** the group's scaling: desired, min and max nodes */
  size?: { desired: number; min: number; max: number };
}

export interface InventoryPorts {
  eks: EKSClient;
  autoscaling: AutoScalingClient;
  ec2: EC2Client;
  managedClusters: ManagedClusters;
}

/** The clusters this deployment looks after (`only`, if given and managed), by name. */
export async function listClusterNames(ports: Pick<InventoryPorts, 'eks' | 'managedClusters'>, only?: string): Promise<string[]> {
  const names: string[] = [];
  if (only) names.push(only);
  else for await (const page of paginateListClusters({ client: ports.eks }, {})) names.push(...(page.clusters ?? []));
  return names.filter((n) => ports.managedClusters === '*' || ports.managedClusters.includes(n));
}

export async function listClusters(ports: InventoryPorts, only?: string): Promise<ClusterView[]> {
  const managed = await listClusterNames(ports, only);
  return Promise.all(
    managed.map(async (name) => {
      const { cluster } = await callAws('eks:DescribeCluster', () => ports.eks.send(new DescribeClusterCommand({ name })));
      return {
        name,
        endpoint: cluster?.endpoint ?? '',
        certificateAuthority: cluster?.certificateAuthority?.data ?? '',
        serviceIpv4Cidr: cluster?.kubernetesNetworkConfig?.serviceIpv4Cidr ?? '172.20.0.0/16',
        version: cluster?.version ?? '',
      };
    }),
  );
}

/** `only`: the groups wanted, by name (the others are not described, nor their templates read). */
export async function listGroups(ports: InventoryPorts, cluster: ClusterView, only?: (name: string) => boolean): Promise<GroupView[]> {
  const groups: GroupView[] = [];
  const wanted = only ?? (() => true);
  // managed node groups
  const nodegroupNames: string[] = [];
  for await (const page of paginateListNodegroups({ client: ports.eks }, { clusterName: cluster.name })) nodegroupNames.push(...(page.nodegroups ?? []).filter(wanted));
  const nodegroups = await Promise.all(
    nodegroupNames.map((nodegroupName) =>
      callAws('eks:DescribeNodegroup', () => ports.eks.send(new DescribeNodegroupCommand({ clusterName: cluster.name, nodegroupName }))).then((o) => o.nodegroup!),
    ),
  );
  for (const ng of nodegroups) {
    const lt = ng.launchTemplate?.id && ng.launchTemplate.version ? { id: ng.launchTemplate.id, version: Number(ng.launchTemplate.version) } : undefined;
    const custom = lt && ng.amiType === 'CUSTOM' ? await describeTemplateVersion(ports.ec2, lt.id, String(lt.version)) : undefined;
    const accountId = accountOfArn(ng.nodegroupArn);
    groups.push({
      cluster: cluster.name,
      kind: 'managed',
      name: ng.nodegroupName!,
      ...(accountId ? { accountId } : {}),
      autoScalingGroup: ng.resources?.autoScalingGroups?.[0]?.name,
      tags: ng.tags ?? {},
      ...(lt ? { launchTemplate: lt } : {}),
      ...(ng.amiType && ng.amiType !== 'CUSTOM' ? { amiType: ng.amiType, releaseVersion: ng.releaseVersion } : {}),
      kubernetesVersion: ng.version ?? cluster.version,
      controlPlaneVersion: cluster.version,
      ...(custom?.imageId ? { imageId: custom.imageId } : {}),
      ...(ng.scalingConfig ? { size: { desired: ng.scalingConfig.desiredSize ?? 0, min: ng.scalingConfig.minSize ?? 0, max: ng.scalingConfig.maxSize ?? 0 } } : {}),
    });
  }
  // self-managed groups: tagged for the cluster, not EKS's
  const pages = paginateDescribeAutoScalingGroups({ client: ports.autoscaling, pageSize: 100 }, { Filters: [{ Name: 'tag-key', Values: [`kubernetes.io/cluster/${cluster.name}`] }] });
  for await (const page of pages) {
    for (const g of page.AutoScalingGroups ?? []) {
      const tags = Object.fromEntries((g.Tags ?? []).map((t) => [t.Key!, t.Value ?? '']));
      if (tags['eks:nodegroup-name'] || !wanted(g.AutoScalingGroupName ?? '')) continue;
      const spec = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
      if (!spec?.LaunchTemplateId) continue;
      const version = await describeTemplateVersion(ports.ec2, spec.LaunchTemplateId, spec.Version ?? '$Default');
      if (!version) continue;
      const accountId = accountOfArn(g.AutoScalingGroupARN);
      groups.push({
        cluster: cluster.name,
        kind: 'self-managed',
        name: g.AutoScalingGroupName!,
        ...(accountId ? { accountId } : {}),
        autoScalingGroup: g.AutoScalingGroupName!,
        tags,
        launchTemplate: { id: spec.LaunchTemplateId, version: version.version },
        // what the group's image is built for, not the cluster's: a control plane upgrade moves no group by itself
        kubernetesVersion: '',
        controlPlaneVersion: cluster.version,
        ...(version.imageId ? { imageId: version.imageId } : {}),
        size: { desired: g.DesiredCapacity ?? 0, min: g.MinSize ?? 0, max: g.MaxSize ?? 0 },
      });
    }
  }
  return groups;
}

/** One DescribeImages (per 100 ids) for every group's current image, and the Kubernetes minor it is built for. */
export async function attachImages(ec2: EC2Client, groups: GroupView[]): Promise<void> {
  const ids = [...new Set(groups.map((g) => g.imageId).filter((id): id is string => Boolean(id)))];
  const images = new Map<string, Image>();
  for (let i = 0; i < ids.length; i += 100) {
    // a filter, not ImageIds: one image gone must not fail the lookup of the others
    const out = await callAws('ec2:DescribeImages', () => ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: ids.slice(i, i + 100) }], IncludeDeprecated: true })));
    for (const image of out.Images ?? []) images.set(image.ImageId!, image);
  }
  for (const g of groups) {
    if (!g.imageId || !images.has(g.imageId)) continue;
    g.image = images.get(g.imageId)!;
    // a custom AMI's managed node group reports the version it was created with; the image tells what runs
    const minor = identifyImage(g.image)?.kubernetesVersion;
    if (minor) g.kubernetesVersion = minor;
  }
}

/**
 * The managed clusters' node groups with their tags only — no launch template or image
 * read: what screening an AMI event needs (see image-match.ts), a fraction of an inventory.
 */
export async function listGroupTags(ports: Pick<InventoryPorts, 'eks' | 'autoscaling' | 'managedClusters'>): Promise<SelectorGroup[]> {
  const groups: SelectorGroup[] = [];
  for (const cluster of await listClusterNames(ports)) {
    const names: string[] = [];
    for await (const page of paginateListNodegroups({ client: ports.eks }, { clusterName: cluster })) names.push(...(page.nodegroups ?? []));
    for (const nodegroupName of names) {
      const { nodegroup: ng } = await callAws('eks:DescribeNodegroup', () => ports.eks.send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName })));
      const accountId = accountOfArn(ng?.nodegroupArn);
      groups.push({ cluster, kind: 'managed', name: nodegroupName, ...(accountId ? { accountId } : {}), tags: ng?.tags ?? {} });
    }
    const pages = paginateDescribeAutoScalingGroups({ client: ports.autoscaling, pageSize: 100 }, { Filters: [{ Name: 'tag-key', Values: [`kubernetes.io/cluster/${cluster}`] }] });
    for await (const page of pages) {
      for (const g of page.AutoScalingGroups ?? []) {
        const tags = Object.fromEntries((g.Tags ?? []).map((t) => [t.Key!, t.Value ?? '']));
        if (tags['eks:nodegroup-name']) continue;
        const accountId = accountOfArn(g.AutoScalingGroupARN);
        groups.push({ cluster, kind: 'self-managed', name: g.AutoScalingGroupName!, ...(accountId ? { accountId } : {}), tags });
      }
    }
  }
  return groups;
}
