import {
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  ListUpdatesCommand,
  UpdateNodegroupConfigCommand,
  UpdateNodegroupVersionCommand,
  type EKSClient,
  type Nodegroup,
  type Update,
} from '@aws-sdk/client-eks';
import { callAws } from './call.js';

/**
 * EKS managed node group updates: the node group as an update sees it, the updates, and
 * starting one. EKS runs one update of a group at a time and answers a second with
 * ResourceInUseException: that is an answer here ('in-use'), not a failure.
 */

export interface UpdateConfigView {
  maxUnavailable?: number;
  maxUnavailablePercentage?: number;
  updateStrategy?: 'DEFAULT' | 'MINIMAL';
}

export interface NodegroupView {
  cluster: string;
  name: string;
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
  tags: Record<string, string>;
}

export type UpdateStatus = 'InProgress' | 'Failed' | 'Cancelled' | 'Successful';

export interface UpdateErrorView {
  code: string;
  message: string;
  resourceIds: string[];
}

export interface UpdateView {
  id: string;
  /** VersionUpdate, ConfigUpdate, … */
  type: string;
  status: UpdateStatus;
  params: { type: string; value: string }[];
  /** ISO 8601 */
  createdAt?: string;
  errors: UpdateErrorView[];
}

export type StartOutcome = { started: UpdateView } | { inUse: string };

export function nodegroupView(ng: Nodegroup, cluster: string, name: string): NodegroupView {
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
  return view;
}

export function updateView(update: Update | undefined): UpdateView {
  return {
    id: update?.id ?? '',
    type: update?.type ?? 'Unknown',
    status: (update?.status ?? 'InProgress') as UpdateStatus,
    params: (update?.params ?? []).map((p) => ({ type: p.type ?? '', value: p.value ?? '' })),
    ...(update?.createdAt ? { createdAt: update.createdAt.toISOString() } : {}),
    errors: (update?.errors ?? []).map((e) => ({ code: e.errorCode ?? 'Unknown', message: e.errorMessage ?? '', resourceIds: e.resourceIds ?? [] })),
  };
}

/** The node group; a missing one is rethrown as EKS's ResourceNotFoundException. */
export async function describeNodegroup(eks: EKSClient, cluster: string, nodegroup: string): Promise<NodegroupView> {
  const out = await callAws('eks:DescribeNodegroup', () => eks.send(new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup })));
  return nodegroupView(out.nodegroup ?? {}, cluster, nodegroup);
}

export async function describeUpdate(eks: EKSClient, cluster: string, nodegroup: string, updateId: string): Promise<UpdateView> {
  const out = await callAws('eks:DescribeUpdate', () => eks.send(new DescribeUpdateCommand({ name: cluster, nodegroupName: nodegroup, updateId })));
  return updateView(out.update);
}

/** Every update id of the group, in the order EKS lists them. */
export async function listUpdateIds(eks: EKSClient, cluster: string, nodegroup: string): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await callAws('eks:ListUpdates', () => eks.send(new ListUpdatesCommand({ name: cluster, nodegroupName: nodegroup, maxResults: 100, ...(nextToken ? { nextToken } : {}) })));
    ids.push(...(out.updateIds ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return ids;
}

/**
 * The group's update in progress, if any. Only worth asking while the group is UPDATING:
 * a group collects updates over its life and each needs a DescribeUpdate. EKS does not
 * document the list's order; the end is tried first, where the sandbox puts the newest.
 */
export async function findUpdateInProgress(eks: EKSClient, cluster: string, nodegroup: string): Promise<UpdateView | undefined> {
  const ids = await listUpdateIds(eks, cluster, nodegroup);
  for (const id of ids.slice().reverse()) {
    const update = await describeUpdate(eks, cluster, nodegroup, id);
    if (update.status === 'InProgress') return update;
  }
  return undefined;
}

export interface VersionUpdateRequest {
  launchTemplate?: { id: string; version: string };
  releaseVersion?: string;
  version?: string;
  force: boolean;
}

async function startUpdate(operation: string, call: () => Promise<{ update?: Update }>): Promise<StartOutcome> {
  try {
    const out = await callAws(operation, call);
    return { started: updateView(out.update) };
  } catch (error) {
    if ((error as Error).name === 'ResourceInUseException') return { inUse: (error as Error).message };
    throw error;
  }
}

/** UpdateNodegroupVersion; `clientRequestToken` makes a repeated call return the same update. */
export function startVersionUpdate(eks: EKSClient, cluster: string, nodegroup: string, request: VersionUpdateRequest, clientRequestToken: string): Promise<StartOutcome> {
  return startUpdate('eks:UpdateNodegroupVersion', () =>
    eks.send(
      new UpdateNodegroupVersionCommand({
        clusterName: cluster,
        nodegroupName: nodegroup,
        ...(request.launchTemplate ? { launchTemplate: request.launchTemplate } : {}),
        ...(request.releaseVersion !== undefined ? { releaseVersion: request.releaseVersion } : {}),
        ...(request.version !== undefined ? { version: request.version } : {}),
        ...(request.force ? { force: true } : {}),
        clientRequestToken,
      }),
    ),
  );
}

/** UpdateNodegroupConfig of the update config only (how many nodes at once, which strategy). */
export function startConfigUpdate(eks: EKSClient, cluster: string, nodegroup: string, updateConfig: UpdateConfigView, clientRequestToken: string): Promise<StartOutcome> {
  return startUpdate('eks:UpdateNodegroupConfig', () =>
    eks.send(new UpdateNodegroupConfigCommand({ clusterName: cluster, nodegroupName: nodegroup, updateConfig, clientRequestToken })),
  );
}
