/**
 * Amazon EKS managed node group updates: UpdateNodegroupVersion, UpdateNodegroupConfig,
 * DescribeUpdate, ListUpdates (and the control plane's UpdateClusterVersion), run on the virtual clock through the phases the EKS user
 * guide documents (managed-node-update-behavior):
 *
 * 1. setup: a new version of the EKS-owned launch template (the new release's image, or
 *    the user's new template version); the Auto Scaling group points at it;
 * 2. scale-up: ASG max and desired += max(2 × AZs, maxUnavailable); the new nodes must be
 *    Ready within 15 minutes (else NodeCreationFailure); the old nodes are cordoned and
 *    labelled node.kubernetes.io/exclude-from-external-load-balancers=true;
 * 3. upgrade: up to maxUnavailable old nodes at a time are drained through evictions
 *    (budgets respected), then after 60 s terminated (the ASG replaces them from the new
 *    template version); a drain that does not finish within 15 minutes fails the update
 *    with PodEvictionFailure, unless `force`, when the remaining pods are deleted;
 * 4. scale-down: one node at a time (drained first) back to the original max/desired.
 *
 * The Kubernetes side goes through the cluster's NodeRegistry (`isNodeReady`,
 * `cordonNode`, `drainNode`, all optional: without them nodes count as Ready and empty).
 *
 * Simplified: the batch of old nodes is picked in a stable order, not randomly; only the
 * DEFAULT update strategy; a failed update leaves the group as it stands (no rollback);
 * UpdateNodegroupConfig labels/taints/nodeRepairConfig are refused as not modelled.
 */
import {
  DescribeUpdateCommand,
  ListUpdatesCommand,
  UpdateClusterVersionCommand,
  UpdateNodegroupConfigCommand,
  UpdateNodegroupVersionCommand,
  type ErrorDetail,
  type Update,
  type UpdateNodegroupConfigCommandInput,
  type UpdateNodegroupVersionCommandInput,
  type UpdateParam,
} from '@aws-sdk/client-eks';
import type { LaunchTemplateSpecification } from '@aws-sdk/client-auto-scaling';
import type { RequestLaunchTemplateData } from '@aws-sdk/client-ec2';
import type { AccountState } from './account-state';
import { resolveRelease, type Releases } from './ami-catalogue';
import { isTerminating } from './asg-model';
import { clone } from './clone';
import type { AutoScalingService } from './autoscaling';
import type { ClusterRecord, NodegroupRecord } from './eks-records';
import { eksInUse, eksInvalidParameter, eksInvalidRequest, eksNotFound, SandboxNotImplementedError } from './errors';
import { paginate } from './filters';
import type { DrainPass, NodeRegistry } from './node-registry';
import { route, type Route } from './routes';
import { fromBase64, mergeManagedUserData, toBase64, type ClusterConnection } from './user-data';

/** Which instances registered as nodes, and as what: the kubelet's (kubelet.ts, built after EKS). */
export interface NodeJoins {
  isJoined(instanceId: string): boolean;
  nodeName(instanceId: string): string | undefined;
}

/** What EKS builds node groups on: EC2 and SSM's AMI parameters, Auto Scaling, the kubelet's joins. */
export interface EksDependencies extends Releases {
  readonly autoscaling: AutoScalingService;
  readonly joins: NodeJoins;
}

/** The clusters and node groups that updates act on (eks.ts). */
export interface UpdatedClusters {
  require(name: string | undefined): ClusterRecord;
  requireNodegroup(clusterName: string | undefined, nodegroupName: string | undefined): NodegroupRecord;
  connection(record: ClusterRecord): ClusterConnection;
}

export type UpdateErrorCode = 'NodeCreationFailure' | 'PodEvictionFailure' | 'Ec2LaunchTemplateVersionMaxLimitExceeded' | 'InternalFailure';

export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

interface VersionTarget {
  kind: 'version';
  imageId: string;
  releaseVersion: string;
  version: string;
  customAmi: boolean;
  /** the user's template version to derive from, when the request named one */
  userTemplate?: { id: string; name: string; version: string; data: RequestLaunchTemplateData };
  force: boolean;
}

/** A control plane's UpdateClusterVersion (no node group: `nodegroupName` is ''). */
interface ClusterVersionTarget {
  kind: 'cluster-version';
  version: string;
}

interface ConfigTarget {
  kind: 'config';
  updateConfig?: { maxUnavailable?: number; maxUnavailablePercentage?: number };
  scaling?: { minSize: number; maxSize: number; desiredSize: number };
}

export interface UpdateRecord {
  update: Update & { id: string; status: NonNullable<Update['status']>; errors: ErrorDetail[] };
  clusterName: string;
  nodegroupName: string;
  target: VersionTarget | ConfigTarget | ClusterVersionTarget;
}

class UpdateFailed extends Error {
  constructor(readonly code: UpdateErrorCode, message: string, readonly resourceIds: string[]) {
    super(message);
  }
}

export class NodegroupUpdates {
  /** Virtual durations of the rollout; tests may shorten them. */
  readonly timings = {
    pollMs: 10_000,
    nodeReadyTimeoutMs: 15 * 60_000,
    drainTimeoutMs: 15 * 60_000,
    drainPassMs: 5_000,
    afterDrainMs: 60_000,
    configUpdateMs: 30_000,
    /** a control plane upgrade takes tens of minutes */
    clusterUpdateMs: 25 * 60_000,
  };
  readonly updates = new Map<string, UpdateRecord>();
  private readonly faults = new Map<string, UpdateErrorCode>();

  constructor(
    private readonly account: AccountState,
    private readonly eks: UpdatedClusters,
    private readonly uses: EksDependencies,
  ) {}

  /**
   * Fault hook: the next version update of the group fails with `code`. NodeCreationFailure
   * is produced naturally: the new template version's user data does not bootstrap, so the
   * new nodes never join; other codes fail the update when its upgrade phase starts.
   */
  failNextUpdate(cluster: string, nodegroup: string, code: UpdateErrorCode): void {
    this.faults.set(`${cluster}/${nodegroup}`, code);
  }

  private inProgress(ng: NodegroupRecord): UpdateRecord | undefined {
    return [...this.updates.values()].find(
      (u) => u.clusterName === ng.nodegroup.clusterName && u.nodegroupName === ng.nodegroup.nodegroupName && u.update.status === 'InProgress',
    );
  }

  private checkUpdatable(ng: NodegroupRecord): void {
    const names = { clusterName: ng.nodegroup.clusterName, nodegroupName: ng.nodegroup.nodegroupName };
    if (this.inProgress(ng) || ng.nodegroup.status === 'UPDATING') {
      throw eksInUse(`Nodegroup ${ng.nodegroup.nodegroupName} cannot be updated as it is currently in UPDATING state. Only one update can be in progress at a time.`, names);
    }
    if (ng.nodegroup.status !== 'ACTIVE' && ng.nodegroup.status !== 'DEGRADED') {
      throw eksInUse(`Nodegroup ${ng.nodegroup.nodegroupName} cannot be updated as it is currently in ${ng.nodegroup.status} state.`, names);
    }
  }

  // ---- UpdateNodegroupVersion ----

  updateVersion(input: UpdateNodegroupVersionCommandInput): { update: Update } {
    const ng = this.eks.requireNodegroup(input.clusterName, input.nodegroupName);
    const cluster = this.eks.require(input.clusterName).cluster;
    const names = { clusterName: cluster.name, nodegroupName: ng.nodegroup.nodegroupName };
    this.checkUpdatable(ng);
    const { ec2 } = this.uses;

    // the user's template: the request's version of the group's own template
    let userTemplate: VersionTarget['userTemplate'];
    if (input.launchTemplate) {
      const current = ng.nodegroup.launchTemplate;
      if (!current) throw eksInvalidParameter('You cannot specify a launch template for a node group that was not created with one.', names);
      if ((input.launchTemplate.id && input.launchTemplate.id !== current.id) || (input.launchTemplate.name && input.launchTemplate.name !== current.name)) {
        throw eksInvalidParameter(`Launch template ${input.launchTemplate.id ?? input.launchTemplate.name} differs from the one the node group was created with (${current.id}).`, names);
      }
      try {
        const lt = ec2.launchTemplates.find({ LaunchTemplateId: current.id });
        const version = ec2.launchTemplates.resolveVersion(lt, input.launchTemplate.version);
        userTemplate = { id: lt.template.LaunchTemplateId, name: lt.template.LaunchTemplateName, version: String(version.VersionNumber), data: clone(version.LaunchTemplateData ?? {}) as RequestLaunchTemplateData };
      } catch (error) {
        throw eksInvalidParameter(`Launch template ${current.id} version ${input.launchTemplate.version ?? '$Default'} is not valid: ${(error as Error).message}`, names);
      }
    } else if (ng.nodegroup.launchTemplate) {
      const lt = ec2.launchTemplates.find({ LaunchTemplateId: ng.nodegroup.launchTemplate.id });
      const version = ec2.launchTemplates.resolveVersion(lt, ng.nodegroup.launchTemplate.version);
      if (version.LaunchTemplateData?.ImageId !== undefined) {
        throw eksInvalidParameter('The node group uses a custom AMI from its launch template: specify a new launch template version to update it.', names);
      }
      userTemplate = { id: lt.template.LaunchTemplateId, name: lt.template.LaunchTemplateName, version: String(version.VersionNumber), data: clone(version.LaunchTemplateData ?? {}) as RequestLaunchTemplateData };
    }

    const customAmi = userTemplate?.data.ImageId !== undefined;
    let target: VersionTarget;
    if (customAmi) {
      if (input.releaseVersion !== undefined || input.version !== undefined) {
        throw eksInvalidParameter('You cannot specify releaseVersion or version when your launch template specifies an image id.', names);
      }
      const imageId = ec2.resolveImageAlias(userTemplate!.data.ImageId!);
      target = { kind: 'version', imageId, releaseVersion: imageId, version: ng.nodegroup.version ?? cluster.version, customAmi, userTemplate, force: input.force ?? false };
    } else {
      const amiType = ng.nodegroup.amiType!;
      const version = input.version ?? (input.releaseVersion ? ng.nodegroup.version! : cluster.version);
      if (compareMinor(version, cluster.version) > 0) {
        throw eksInvalidParameter(`Requested Nodegroup version ${version} is newer than the cluster version ${cluster.version}.`, names);
      }
      if (compareMinor(version, ng.nodegroup.version ?? version) < 0) {
        throw eksInvalidParameter(`Requested Nodegroup version ${version} is older than the current version ${ng.nodegroup.version}.`, names);
      }
      const { imageId, releaseVersion } = resolveRelease(this.uses, amiType, version, input.releaseVersion, names);
      target = { kind: 'version', imageId, releaseVersion, version, customAmi, ...(userTemplate ? { userTemplate } : {}), force: input.force ?? false };
    }

    const params: UpdateParam[] = [
      ...(customAmi ? [] : [{ type: 'Version' as const, value: target.version }, { type: 'ReleaseVersion' as const, value: target.releaseVersion }]),
      ...(input.launchTemplate && userTemplate
        ? [{ type: 'LaunchTemplateName' as const, value: userTemplate.name }, { type: 'LaunchTemplateVersion' as const, value: userTemplate.version }]
        : []),
    ];
    const record = this.start(ng, 'VersionUpdate', params, target);
    this.account.clock.after(0, () => this.run(record, ng));
    return { update: clone(record.update) };
  }

  // ---- UpdateNodegroupConfig ----

  updateConfig(input: UpdateNodegroupConfigCommandInput): { update: Update } {
    const ng = this.eks.requireNodegroup(input.clusterName, input.nodegroupName);
    const names = { clusterName: ng.nodegroup.clusterName, nodegroupName: ng.nodegroup.nodegroupName };
    if (input.labels || input.taints || input.nodeRepairConfig) throw new SandboxNotImplementedError('eks', 'UpdateNodegroupConfig (labels, taints, nodeRepairConfig)');
    if (!input.updateConfig && !input.scalingConfig) throw eksInvalidParameter('No changes needed: specify updateConfig or scalingConfig.', names);
    this.checkUpdatable(ng);
    const params: UpdateParam[] = [];
    const target: ConfigTarget = { kind: 'config' };
    if (input.updateConfig) {
      const { maxUnavailable, maxUnavailablePercentage } = input.updateConfig;
      if ((maxUnavailable === undefined) === (maxUnavailablePercentage === undefined)) {
        throw eksInvalidParameter('Exactly one of maxUnavailable and maxUnavailablePercentage must be specified in updateConfig.', names);
      }
      if (maxUnavailable !== undefined && (maxUnavailable < 1 || maxUnavailable > 100)) throw eksInvalidParameter('maxUnavailable must be between 1 and 100.', names);
      if (maxUnavailablePercentage !== undefined && (maxUnavailablePercentage < 1 || maxUnavailablePercentage > 100)) {
        throw eksInvalidParameter('maxUnavailablePercentage must be between 1 and 100.', names);
      }
      target.updateConfig = maxUnavailable !== undefined ? { maxUnavailable } : { maxUnavailablePercentage: maxUnavailablePercentage! };
      params.push(maxUnavailable !== undefined ? { type: 'MaxUnavailable', value: String(maxUnavailable) } : { type: 'MaxUnavailablePercentage', value: String(maxUnavailablePercentage) });
    }
    if (input.scalingConfig) {
      const current = ng.nodegroup.scalingConfig ?? {};
      const scaling = {
        minSize: input.scalingConfig.minSize ?? current.minSize ?? 0,
        maxSize: input.scalingConfig.maxSize ?? current.maxSize ?? 1,
        desiredSize: input.scalingConfig.desiredSize ?? current.desiredSize ?? 0,
      };
      if (scaling.maxSize < 1 || scaling.minSize < 0 || scaling.minSize > scaling.maxSize || scaling.desiredSize < scaling.minSize || scaling.desiredSize > scaling.maxSize) {
        throw eksInvalidParameter(`Invalid scaling configuration: minSize ${scaling.minSize}, maxSize ${scaling.maxSize}, desiredSize ${scaling.desiredSize}.`, names);
      }
      target.scaling = scaling;
      if (input.scalingConfig.minSize !== undefined) params.push({ type: 'MinSize', value: String(scaling.minSize) });
      if (input.scalingConfig.maxSize !== undefined) params.push({ type: 'MaxSize', value: String(scaling.maxSize) });
      if (input.scalingConfig.desiredSize !== undefined) params.push({ type: 'DesiredSize', value: String(scaling.desiredSize) });
    }
    const record = this.start(ng, 'ConfigUpdate', params, target);
    this.account.clock.after(this.timings.configUpdateMs, () => {
      if (record.update.status !== 'InProgress') return;
      if (target.updateConfig) ng.nodegroup.updateConfig = { ...(ng.nodegroup.updateConfig ?? {}), ...target.updateConfig, ...(target.updateConfig.maxUnavailable !== undefined ? { maxUnavailablePercentage: undefined } : { maxUnavailable: undefined }) };
      if (target.scaling) {
        ng.nodegroup.scalingConfig = { ...target.scaling };
        this.uses.autoscaling.updateAutoScalingGroup({ AutoScalingGroupName: ng.autoScalingGroupName, MinSize: target.scaling.minSize, MaxSize: target.scaling.maxSize, DesiredCapacity: target.scaling.desiredSize });
      }
      this.finish(record, ng, 'Successful');
    });
    return { update: clone(record.update) };
  }

  // ---- DescribeUpdate / ListUpdates ----

  describe(input: { name?: string; updateId?: string; nodegroupName?: string }): { update: Update } {
    const cluster = this.eks.require(input.name);
    if (input.nodegroupName !== undefined) this.eks.requireNodegroup(input.name, input.nodegroupName);
    const record = this.updates.get(input.updateId ?? '');
    if (!record || record.clusterName !== cluster.cluster.name || (input.nodegroupName !== undefined && record.nodegroupName !== input.nodegroupName)) {
      throw eksNotFound(`No update found for ID: ${input.updateId}.`, { clusterName: cluster.cluster.name, ...(input.nodegroupName ? { nodegroupName: input.nodegroupName } : {}) });
    }
    return { update: clone(record.update) };
  }

  list(input: { name?: string; nodegroupName?: string; maxResults?: number; nextToken?: string }): { updateIds: string[]; nextToken?: string } {
    const cluster = this.eks.require(input.name);
    if (input.nodegroupName !== undefined) this.eks.requireNodegroup(input.name, input.nodegroupName);
    if (input.maxResults !== undefined && (input.maxResults < 1 || input.maxResults > 100)) throw eksInvalidParameter('maxResults must be between 1 and 100.');
    // without nodegroupName: the cluster's own updates (UpdateClusterVersion), whose nodegroupName is ''
    const ids = [...this.updates.values()].filter((u) => u.clusterName === cluster.cluster.name && u.nodegroupName === (input.nodegroupName ?? '')).map((u) => u.update.id);
    const { page, nextToken } = paginate(ids, input.maxResults ?? 100, input.nextToken, () => eksInvalidParameter('The nextToken is not valid.'));
    return { updateIds: page, ...(nextToken ? { nextToken } : {}) };
  }

  routes(): Route[] {
    return [
      route('eks', UpdateNodegroupVersionCommand, (i) => this.updateVersion(i)),
      route('eks', UpdateNodegroupConfigCommand, (i) => this.updateConfig(i)),
      route('eks', DescribeUpdateCommand, (i) => this.describe(i)),
      route('eks', ListUpdatesCommand, (i) => this.list(i)),
      route('eks', UpdateClusterVersionCommand, (i) => this.updateClusterVersion(i)),
    ];
  }

  // ---- UpdateClusterVersion ----

  /**
   * The control plane's upgrade, as EKS does it: one minor at a time; refused while another
   * update runs, or while a managed node group is not yet at the cluster's version (EKS wants
   * them level before it moves the control plane); UPDATING for `clusterUpdateMs`, then ACTIVE
   * on the new version. Nodes are not touched: upgrading them is the node groups' business.
   * (The sandbox's Kubernetes API keeps answering /version with the version it started with.)
   */
  updateClusterVersion(input: { name?: string; version?: string }): { update: Update } {
    const record = this.eks.require(input.name);
    const cluster = record.cluster;
    const names = { clusterName: cluster.name };
    if (cluster.status !== 'ACTIVE' || [...this.updates.values()].some((u) => u.clusterName === cluster.name && u.nodegroupName === '' && u.update.status === 'InProgress')) {
      throw eksInUse(`Cluster ${cluster.name} has an update in progress. Only one update can be in progress at a time.`, names);
    }
    const version = input.version ?? '';
    if (compareMinor(version, cluster.version) !== 1 || version.split('.').length !== 2 || version.split('.')[0] !== cluster.version.split('.')[0]) {
      throw eksInvalidParameter(`Unsupported Kubernetes minor version update from ${cluster.version} to ${version}`, names);
    }
    const behind = [...record.nodegroups.values()].filter((ng) => ng.nodegroup.version !== cluster.version).map((ng) => ng.nodegroup.nodegroupName);
    if (behind.length > 0) {
      throw eksInvalidRequest(`Nodegroups ${behind.join(', ')} must be updated to match cluster version ${cluster.version} before updating cluster version`, names);
    }
    const update: UpdateRecord = {
      update: { id: this.account.ids.uuid(), status: 'InProgress', type: 'VersionUpdate', params: [{ type: 'Version', value: version }, { type: 'PlatformVersion', value: 'eks.1' }], createdAt: this.account.clock.date(), errors: [] },
      clusterName: cluster.name,
      nodegroupName: '',
      target: { kind: 'cluster-version', version },
    };
    this.updates.set(update.update.id, update);
    cluster.status = 'UPDATING';
    this.account.note('eks', `cluster ${cluster.name}: VersionUpdate ${update.update.id} started (${cluster.version} → ${version})`);
    this.account.clock.after(this.timings.clusterUpdateMs, () => {
      cluster.version = version;
      cluster.platformVersion = 'eks.1';
      cluster.status = 'ACTIVE';
      update.update.status = 'Successful';
      this.account.note('eks', `cluster ${cluster.name}: update ${update.update.id} Successful, Kubernetes ${version}`);
    });
    return { update: clone(update.update) };
  }

  // ---- the rollout ----

  private start(ng: NodegroupRecord, type: 'VersionUpdate' | 'ConfigUpdate', params: UpdateParam[], target: UpdateRecord['target']): UpdateRecord {
    const record: UpdateRecord = {
      update: { id: this.account.ids.uuid(), status: 'InProgress', type, params, createdAt: this.account.clock.date(), errors: [] },
      clusterName: ng.nodegroup.clusterName,
      nodegroupName: ng.nodegroup.nodegroupName,
      target,
    };
    this.updates.set(record.update.id, record);
    ng.nodegroup.status = 'UPDATING';
    ng.nodegroup.modifiedAt = this.account.clock.date();
    this.note(record, `${type} ${record.update.id} started (${params.map((p) => `${p.type}=${p.value}`).join(', ') || 'no parameters'})`);
    return record;
  }

  private note(record: UpdateRecord, message: string): void {
    this.account.note('eks', `node group ${record.clusterName}/${record.nodegroupName}: ${message}`);
  }

  private finish(record: UpdateRecord, ng: NodegroupRecord, status: 'Successful' | 'Failed', error?: UpdateFailed): void {
    record.update.status = status;
    if (error) record.update.errors.push({ errorCode: error.code as ErrorDetail['errorCode'], errorMessage: error.message, resourceIds: error.resourceIds });
    ng.nodegroup.status = 'ACTIVE';
    ng.nodegroup.modifiedAt = this.account.clock.date();
    this.note(record, `update ${record.update.id} ${status}${error ? `: ${error.code}: ${error.message}` : ''}`);
  }

  private run(record: UpdateRecord, ng: NodegroupRecord): void {
    void this.account.clock
      .actor(() => this.rollout(record, ng))
      .then(
        () => this.finish(record, ng, 'Successful'),
        (error: unknown) => this.finish(record, ng, 'Failed', error instanceof UpdateFailed ? error : new UpdateFailed('InternalFailure', (error as Error).message ?? String(error), [])),
      );
  }

  private async rollout(record: UpdateRecord, ng: NodegroupRecord): Promise<void> {
    const target = record.target as VersionTarget;
    const { clock } = this.account;
    const { autoscaling } = this.uses;
    const group = autoscaling.group(ng.autoScalingGroupName);
    const registry = this.account.nodes(ng.nodegroup.clusterName);
    const fault = this.faults.get(`${record.clusterName}/${record.nodegroupName}`);
    this.faults.delete(`${record.clusterName}/${record.nodegroupName}`);
    const original = { min: group.min, max: group.max, desired: group.desired };

    // 1. setup
    const version = this.newTemplateVersion(record, ng, target, fault === 'NodeCreationFailure');
    this.pointGroupAt(ng, version);
    this.note(record, `setup: launch template ${ng.eksLaunchTemplateId} version ${version} (${target.imageId}); ${ng.autoScalingGroupName} now launches from it`);
    const isNew = (id: string) => group.instances.get(id)?.launchTemplate?.Version === version;

    // 2. scale-up
    const zones = new Set(group.subnetIds.map((s) => this.uses.ec2.subnets.get(s)?.subnet.AvailabilityZone ?? s)).size;
    const maxUnavailable = this.maxUnavailable(ng, original.desired);
    const surge = Math.max(2 * zones, maxUnavailable);
    autoscaling.updateAutoScalingGroup({ AutoScalingGroupName: group.name, MaxSize: original.max + surge, DesiredCapacity: original.desired + surge });
    this.note(record, `scale-up: max ${original.max} → ${original.max + surge}, desired ${original.desired} → ${original.desired + surge} (max(2 × ${zones} AZs, maxUnavailable ${maxUnavailable}))`);
    await clock.sleep(1_000);
    await this.waitReady(record, ng, registry, (ids) => ids.filter(isNew), surge);
    const old = () => [...group.instances.values()].filter((i) => !isTerminating(i.lifecycleState) && !isNew(i.instanceId)).map((i) => i.instanceId).sort();
    for (const id of old()) {
      const node = this.uses.joins.nodeName(id);
      if (node && registry?.cordonNode) await registry.cordonNode(node, { labels: { [EXCLUDE_FROM_LB_LABEL]: 'true' } });
    }
    this.note(record, `scale-up: new nodes Ready; cordoned ${old().length} old node(s) and labelled them ${EXCLUDE_FROM_LB_LABEL}=true`);

    // 3. upgrade
    if (fault && fault !== 'NodeCreationFailure') throw new UpdateFailed(fault, `Injected failure ${fault} (sandbox fault hook).`, []);
    for (let batch = old().slice(0, maxUnavailable); batch.length > 0; batch = old().slice(0, maxUnavailable)) {
      const nodes = batch.map((id) => this.uses.joins.nodeName(id));
      this.note(record, `upgrade: draining ${batch.map((id, i) => nodes[i] ?? id).join(', ')}`);
      await Promise.all(batch.map((id, i) => this.drain(record, ng, registry, nodes[i], id, target.force)));
      await clock.sleep(this.timings.afterDrainMs);
      for (const id of batch) {
        if (group.instances.has(id)) autoscaling.terminateInstanceInAutoScalingGroup({ InstanceId: id, ShouldDecrementDesiredCapacity: false });
      }
      this.note(record, `upgrade: terminated ${batch.join(', ')}`);
      await clock.sleep(1_000);
    }

    // 4. scale-down, one at a time; the replacements must have joined first
    await this.waitReady(record, ng, registry, (ids) => ids, group.desired);
    while (group.desired > original.desired) {
      const victim = this.scaleInVictim(ng);
      if (!victim) break;
      const node = this.uses.joins.nodeName(victim);
      if (node && registry?.cordonNode) await registry.cordonNode(node);
      await this.drain(record, ng, registry, node, victim, target.force);
      autoscaling.terminateInstanceInAutoScalingGroup({ InstanceId: victim, ShouldDecrementDesiredCapacity: true });
      autoscaling.updateAutoScalingGroup({ AutoScalingGroupName: group.name, MaxSize: Math.max(original.max, group.max - 1) });
      this.note(record, `scale-down: removed ${node ?? victim}; desired ${group.desired}, max ${group.max}`);
      await clock.sleep(this.timings.pollMs);
    }
    autoscaling.updateAutoScalingGroup({ AutoScalingGroupName: group.name, MaxSize: original.max });

    // done: the group reflects the update
    ng.nodegroup.releaseVersion = target.releaseVersion;
    ng.nodegroup.version = target.version;
    if (target.userTemplate && ng.nodegroup.launchTemplate) ng.nodegroup.launchTemplate = { ...ng.nodegroup.launchTemplate, version: target.userTemplate.version };
  }

  private maxUnavailable(ng: NodegroupRecord, desired: number): number {
    const config = ng.nodegroup.updateConfig ?? {};
    if (config.maxUnavailable) return config.maxUnavailable;
    if (config.maxUnavailablePercentage) return Math.max(1, Math.floor((desired * config.maxUnavailablePercentage) / 100));
    return 1;
  }

  /** The ASG's current template version for the EKS-owned template. */
  private groupSpec(ng: NodegroupRecord): LaunchTemplateSpecification {
    const group = this.uses.autoscaling.group(ng.autoScalingGroupName);
    return group.launchTemplate ?? group.mixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification ?? {};
  }

  private newTemplateVersion(record: UpdateRecord, ng: NodegroupRecord, target: VersionTarget, breakBootstrap: boolean): string {
    const { ec2 } = this.uses;
    const cluster = this.eks.require(record.clusterName);
    const image = ec2.images.get(target.imageId);
    const user = target.userTemplate?.data ?? {};
    let userData = user.UserData;
    if (!target.customAmi && image?.family) {
      const labels: Record<string, string> = {
        ...(ng.nodegroup.labels ?? {}),
        'eks.amazonaws.com/nodegroup-image': target.imageId,
        'eks.amazonaws.com/capacityType': ng.nodegroup.capacityType ?? 'ON_DEMAND',
        'eks.amazonaws.com/nodegroup': ng.nodegroup.nodegroupName,
        ...(target.userTemplate ? { 'eks.amazonaws.com/sourceLaunchTemplateId': target.userTemplate.id, 'eks.amazonaws.com/sourceLaunchTemplateVersion': target.userTemplate.version } : {}),
      };
      const taints = (ng.nodegroup.taints ?? []).map((t) => ({
        key: t.key ?? '',
        ...(t.value !== undefined ? { value: t.value } : {}),
        effect: ({ NO_SCHEDULE: 'NoSchedule', NO_EXECUTE: 'NoExecute', PREFER_NO_SCHEDULE: 'PreferNoSchedule' } as const)[t.effect ?? 'NO_SCHEDULE'],
      }));
      userData = toBase64(mergeManagedUserData(image.family, user.UserData ? fromBase64(user.UserData) : undefined, this.eks.connection(cluster), { labels, taints }));
    }
    if (breakBootstrap) userData = toBase64('#!/bin/bash\necho "sandbox fault: this image does not bootstrap"\n');
    const { IamInstanceProfile: _profile, ...userRest } = user;
    try {
      const created = ec2.launchTemplates.createVersion(
        {
          LaunchTemplateId: ng.eksLaunchTemplateId,
          SourceVersion: this.groupSpec(ng).Version ?? '$Latest',
          LaunchTemplateData: { ...(target.userTemplate ? userRest : {}), ImageId: target.imageId, ...(userData !== undefined ? { UserData: userData } : {}) },
          VersionDescription: `update ${record.update.id}`,
        },
        { createdBy: `arn:aws:sts::${this.account.accountId}:assumed-role/AWSServiceRoleForAmazonEKSNodegroup/EKS` },
      );
      return String(created.LaunchTemplateVersion!.VersionNumber);
    } catch (error) {
      if ((error as Error).name === 'VersionLimitExceeded') {
        throw new UpdateFailed('Ec2LaunchTemplateVersionMaxLimitExceeded', `The launch template ${ng.eksLaunchTemplateId} has reached its version limit.`, [ng.eksLaunchTemplateId]);
      }
      throw error;
    }
  }

  private pointGroupAt(ng: NodegroupRecord, version: string): void {
    const group = this.uses.autoscaling.group(ng.autoScalingGroupName);
    if (group.launchTemplate) {
      this.uses.autoscaling.updateAutoScalingGroup({ AutoScalingGroupName: group.name, LaunchTemplate: { ...group.launchTemplate, Version: version } });
    } else if (group.mixedInstancesPolicy) {
      const policy = clone(group.mixedInstancesPolicy);
      policy.LaunchTemplate!.LaunchTemplateSpecification = { ...policy.LaunchTemplate!.LaunchTemplateSpecification, Version: version };
      this.uses.autoscaling.updateAutoScalingGroup({ AutoScalingGroupName: group.name, MixedInstancesPolicy: policy });
    }
  }

  private async isReady(registry: NodeRegistry | undefined, instanceId: string): Promise<boolean> {
    const node = this.uses.joins.nodeName(instanceId);
    if (!node || !this.uses.joins.isJoined(instanceId)) return false;
    if (!registry?.isNodeReady) return true;
    return (await registry.isNodeReady(node)) === true;
  }

  /** Waits until `count` of the selected active instances are Ready; NodeCreationFailure after the timeout. */
  private async waitReady(record: UpdateRecord, ng: NodegroupRecord, registry: NodeRegistry | undefined, select: (ids: string[]) => string[], count: number): Promise<void> {
    const { clock } = this.account;
    const group = this.uses.autoscaling.group(ng.autoScalingGroupName);
    const deadline = clock.now() + this.timings.nodeReadyTimeoutMs;
    for (;;) {
      const ids = select([...group.instances.values()].filter((i) => !isTerminating(i.lifecycleState)).map((i) => i.instanceId));
      const ready: string[] = [];
      for (const id of ids) if (await this.isReady(registry, id)) ready.push(id);
      if (ready.length >= count) return;
      if (clock.now() >= deadline) {
        throw new UpdateFailed('NodeCreationFailure', `Couldn't proceed with upgrade process as new nodes are not joining node group ${record.nodegroupName}`, ids.filter((id) => !ready.includes(id)));
      }
      await clock.sleep(this.timings.pollMs);
    }
  }

  /** Drains through evictions until empty; after 15 minutes: force → delete, else PodEvictionFailure. */
  private async drain(record: UpdateRecord, ng: NodegroupRecord, registry: NodeRegistry | undefined, node: string | undefined, instanceId: string, force: boolean): Promise<void> {
    if (!node || !registry?.drainNode) return;
    const { clock } = this.account;
    const deadline = clock.now() + this.timings.drainTimeoutMs;
    let forced = false;
    for (;;) {
      const pass: DrainPass = await registry.drainNode(node, { force: forced });
      if (pass === 'drained') return;
      if (clock.now() >= deadline && !forced) {
        if (!force) {
          this.note(record, `drain of ${node} (${instanceId}) blocked for ${this.timings.drainTimeoutMs / 60_000} min: ${pass.blockedBy.slice(0, 3).join('; ')}`);
          throw new UpdateFailed('PodEvictionFailure', `Reached max retries while trying to evict pods from nodes in node group ${ng.nodegroup.nodegroupName}`, [node]);
        }
        this.note(record, `drain of ${node} blocked for ${this.timings.drainTimeoutMs / 60_000} min; force: deleting its ${pass.remaining} remaining pod(s)`);
        forced = true;
        continue;
      }
      await clock.sleep(this.timings.drainPassMs);
    }
  }

  /** The scale-down victim: busiest AZ first, then the newest instance (a sandbox choice, not ASG's policy). */
  private scaleInVictim(ng: NodegroupRecord): string | undefined {
    const group = this.uses.autoscaling.group(ng.autoScalingGroupName);
    const active = [...group.instances.values()].filter((i) => !isTerminating(i.lifecycleState));
    const perZone = new Map<string, number>();
    for (const i of active) perZone.set(i.availabilityZone, (perZone.get(i.availabilityZone) ?? 0) + 1);
    active.sort((a, b) => (perZone.get(b.availabilityZone) ?? 0) - (perZone.get(a.availabilityZone) ?? 0) || b.launchedAt - a.launchedAt || a.instanceId.localeCompare(b.instanceId));
    return active[0]?.instanceId;
  }
}

function compareMinor(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}
