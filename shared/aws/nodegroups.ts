import { DescribeNodegroupCommand, EKSClient, type Nodegroup, paginateListNodegroups } from '@aws-sdk/client-eks';
import { callAws } from './call.js';
import { type AwsScope, clientOf } from './clients.js';
import { accountOfArn } from './partition.js';

/** EKS managed node groups: one reader, one view. */
export interface UpdateConfigView {
  maxUnavailable?: number;
  maxUnavailablePercentage?: number;
  updateStrategy?: 'DEFAULT' | 'MINIMAL';
}

export interface NodegroupView {
  cluster: string;
  name: string;
  /** the account the group lives in (from its ARN) */
  accountId?: string;
  /** ACTIVE, UPDATING, CREATING, DEGRADED, DELETING, CREATE_FAILED, DELETE_FAILED */
  status: string;
  /** Kubernetes minor version, e.g. 1.31 */
  version?: string;
  releaseVersion?: string;
  amiType?: string;
  launchTemplate?: { id?: string; name?: string; version?: string };
  updateConfig?: UpdateConfigView;
  nodeRole?: string;
  subnets: string[];
  instanceTypes: string[];
  autoScalingGroups: string[];
  desiredSize?: number;
  minSize?: number;
  maxSize?: number;
  tags: Record<string, string>;
}

function nodegroupView(ng: Nodegroup, cluster: string, name: string): NodegroupView {
  const config = ng.updateConfig;
  const updateConfig: UpdateConfigView | undefined = config
    ? {
        ...(config.maxUnavailable !== undefined ? { maxUnavailable: config.maxUnavailable } : {}),
        ...(config.maxUnavailablePercentage !== undefined ? { maxUnavailablePercentage: config.maxUnavailablePercentage } : {}),
        ...(config.updateStrategy !== undefined ? { updateStrategy: config.updateStrategy } : {}),
      }
    : undefined;
  const view: NodegroupView = {
    cluster,
    name,
    status: ng.status ?? 'UNKNOWN',
    subnets: ng.subnets ?? [],
    instanceTypes: ng.instanceTypes ?? [],
    autoScalingGroups: (ng.resources?.autoScalingGroups ?? []).flatMap((g) => (g.name ? [g.name] : [])),
    tags: ng.tags ?? {},
  };
  if (ng.version !== undefined) view.version = ng.version;
  if (ng.releaseVersion !== undefined) view.releaseVersion = ng.releaseVersion;
  if (ng.amiType !== undefined) view.amiType = ng.amiType;
  if (ng.launchTemplate) {
    view.launchTemplate = {
      ...(ng.launchTemplate.id !== undefined ? { id: ng.launchTemplate.id } : {}),
      ...(ng.launchTemplate.name !== undefined ? { name: ng.launchTemplate.name } : {}),
      ...(ng.launchTemplate.version !== undefined ? { version: ng.launchTemplate.version } : {}),
    };
  }
  if (updateConfig) view.updateConfig = updateConfig;
  if (ng.nodeRole !== undefined) view.nodeRole = ng.nodeRole;
  if (ng.scalingConfig?.desiredSize !== undefined) view.desiredSize = ng.scalingConfig.desiredSize;
  if (ng.scalingConfig?.minSize !== undefined) view.minSize = ng.scalingConfig.minSize;
  if (ng.scalingConfig?.maxSize !== undefined) view.maxSize = ng.scalingConfig.maxSize;
  const accountId = accountOfArn(ng.nodegroupArn);
  if (accountId) view.accountId = accountId;
  return view;
}

/** The node group; a missing one (or a missing cluster) is rethrown as EKS's ResourceNotFoundException. */
export async function describeNodegroup(scope: AwsScope, cluster: string, nodegroup: string): Promise<NodegroupView> {
  const out = await callAws('eks:DescribeNodegroup', () => clientOf(scope, EKSClient).send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup })));
  return nodegroupView(out.nodegroup ?? {}, cluster, nodegroup);
}

/** The node group, or undefined when EKS knows neither it nor its cluster. */
export async function findNodegroup(scope: AwsScope, cluster: string, nodegroup: string): Promise<NodegroupView | undefined> {
  return describeNodegroup(scope, cluster, nodegroup).catch((error: Error) => {
    if (error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  });
}

/** A managed node group's own tags (EKS does not copy them to its Auto Scaling group); none when it is gone. */
export async function describeNodegroupTags(scope: AwsScope, cluster: string, nodegroup: string): Promise<Record<string, string>> {
  return (await findNodegroup(scope, cluster, nodegroup))?.tags ?? {};
}

/** The names of a cluster's managed node groups, every page. */
export async function listNodegroupNames(scope: AwsScope, cluster: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListNodegroups({ client: clientOf(scope, EKSClient) }, { clusterName: cluster })) names.push(...(page.nodegroups ?? []));
  return names;
}
