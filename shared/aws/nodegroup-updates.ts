import {
  DescribeUpdateCommand,
  ListUpdatesCommand,
  UpdateNodegroupConfigCommand,
  UpdateNodegroupVersionCommand,
  EKSClient,
  type Update,
} from '@aws-sdk/client-eks';
import { type AwsScope, clientOf } from './clients.js';
import { callAws } from './call.js';
import type { UpdateConfigView } from './nodegroups.js';

const eksOf = (scope: AwsScope) => clientOf(scope, EKSClient);

/**
 * EKS managed node group updates: the updates, and starting one. EKS runs one update of a group at a time and answers a second with
 * ResourceInUseException: that is an answer here ('in-use'), not a failure.
 */

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

export async function describeUpdate(scope: AwsScope, cluster: string, nodegroup: string, updateId: string): Promise<UpdateView> {
  const out = await callAws('eks:DescribeUpdate', () => eksOf(scope).send(new DescribeUpdateCommand({ name: cluster, nodegroupName: nodegroup, updateId })));
  return updateView(out.update);
}

/** Every update id of the group, in the order EKS lists them. */
export async function listUpdateIds(scope: AwsScope, cluster: string, nodegroup: string): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await callAws('eks:ListUpdates', () => eksOf(scope).send(new ListUpdatesCommand({ name: cluster, nodegroupName: nodegroup, maxResults: 100, ...(nextToken ? { nextToken } : {}) })));
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
export async function findUpdateInProgress(scope: AwsScope, cluster: string, nodegroup: string): Promise<UpdateView | undefined> {
  const ids = await listUpdateIds(scope, cluster, nodegroup);
  for (const id of ids.slice().reverse()) {
    const update = await describeUpdate(scope, cluster, nodegroup, id);
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
export function startVersionUpdate(scope: AwsScope, cluster: string, nodegroup: string, request: VersionUpdateRequest, clientRequestToken: string): Promise<StartOutcome> {
  return startUpdate('eks:UpdateNodegroupVersion', () =>
    eksOf(scope).send(
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
export function startConfigUpdate(scope: AwsScope, cluster: string, nodegroup: string, updateConfig: UpdateConfigView, clientRequestToken: string): Promise<StartOutcome> {
  return startUpdate('eks:UpdateNodegroupConfig', () =>
    eksOf(scope).send(new UpdateNodegroupConfigCommand({ clusterName: cluster, nodegroupName: nodegroup, updateConfig, clientRequestToken })),
  );
}
