/**
 * Amazon EKS: clusters (registered by the sandbox, which owns their API servers), access
 * entries, and managed node groups backed by a real simulated Auto Scaling group.
 *
 * A managed node group is built the way EKS builds one: an EKS-owned launch template
 * (`eks-<uuid>`) derived from the user's template version, with the EKS AMI for the
 * amiType/releaseVersion and EKS's bootstrap merged into the user data unless the user's
 * template names its own AMI; an Auto Scaling group `eks-<nodegroup>-<uuid>` tagged with
 * the cluster; CREATING until the nodes have joined, CREATE_FAILED (NodeCreationFailure)
 * if they never do. Node group updates (UpdateNodegroupVersion/Config, DescribeUpdate,
 * ListUpdates) live in eks-updates.ts.
 */
import {
  CreateAccessEntryCommand,
  CreateNodegroupCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  ListAccessEntriesCommand,
  ListClustersCommand,
  ListNodegroupsCommand,
  type AccessEntry,
  type AMITypes,
  type Cluster,
  type CreateAccessEntryCommandInput,
  type CreateNodegroupCommandInput,
  type Nodegroup,
  type Taint,
} from '@aws-sdk/client-eks';
import type { RequestLaunchTemplateData } from '@aws-sdk/client-ec2';
import type { AccountState } from './account-state';
import { AMI_TYPES, resolveRelease } from './ami-catalogue';
import type { ClusterRecord, NodegroupRecord } from './eks-records';
import { NodegroupUpdates, type EksDependencies, type UpdateErrorCode } from './eks-updates';
import { eksInUse, eksInvalidParameter, eksInvalidRequest, eksNotFound } from './errors';
import { paginate } from './filters';
import { instanceTypeArchitecture } from './instance-types';
import { clone } from './clone';
import type { KubeTaint } from './node-registry';
import { route, type Route } from './routes';
import { fromBase64, mergeManagedUserData, toBase64, type ClusterConnection } from './user-data';

export interface AddClusterSpec {
  name: string;
  endpoint?: string;
  certificateAuthorityData?: string;
  serviceIpv4Cidr?: string;
  version?: string;
  tags?: Record<string, string>;
  authenticationMode?: 'API' | 'API_AND_CONFIG_MAP' | 'CONFIG_MAP';
  subnetIds?: string[];
  /**
   * who may reach the API endpoint: `public` (and private, EKS's default: public access from
   * 0.0.0.0/0 and private access from the VPC) or `private` only (public access off) — what
   * DescribeCluster's resourcesVpcConfig says; test/sim/private-endpoints.ts enforces it
   */
  endpointAccess?: 'public' | 'private';
  /** the cluster's VPC (default: the account's first) */
  vpcId?: string;
}

const EKS_SERVICE_ROLE = 'AWSServiceRoleForAmazonEKSNodegroup';
const CREATE_TIMEOUT_MS = 15 * 60_000;

export class EksService {
  readonly clusters = new Map<string, ClusterRecord>();
  /** UpdateNodegroupVersion/Config, DescribeUpdate, ListUpdates (see eks-updates.ts). */
  readonly updates: NodegroupUpdates;

  constructor(
    private readonly account: AccountState,
    private readonly uses: EksDependencies,
  ) {
    this.updates = new NodegroupUpdates(account, this, uses);
  }

  /** Fault hook: the group's next version update fails with `code` (see NodegroupUpdates). */
  failNextUpdate(cluster: string, nodegroup: string, code: UpdateErrorCode): void {
    this.updates.failNextUpdate(cluster, nodegroup, code);
  }

  // ---- sandbox setup ----

  addCluster(spec: AddClusterSpec): Cluster {
    const { ids, region, accountId } = this.account;
    const id = ids.hex(32).toUpperCase();
    const cluster: ClusterRecord['cluster'] = {
      name: spec.name,
      arn: `arn:aws:eks:${region}:${accountId}:cluster/${spec.name}`,
      createdAt: this.account.clock.date(),
      version: spec.version ?? '1.31',
      endpoint: spec.endpoint ?? `https://${id}.gr7.${region}.eks.amazonaws.com`,
      roleArn: `arn:aws:iam::${accountId}:role/${spec.name}-cluster`,
      resourcesVpcConfig: {
        subnetIds: spec.subnetIds ?? [...this.uses.ec2.subnets.keys()],
        securityGroupIds: [],
        clusterSecurityGroupId: ids.ec2('sg'),
        vpcId: spec.vpcId ?? [...this.uses.ec2.vpcs.keys()][0],
        endpointPublicAccess: spec.endpointAccess !== 'private',
        endpointPrivateAccess: true,
        publicAccessCidrs: ['0.0.0.0/0'],
      },
      kubernetesNetworkConfig: { serviceIpv4Cidr: spec.serviceIpv4Cidr ?? '172.20.0.0/16', ipFamily: 'ipv4', elasticLoadBalancing: { enabled: false } },
      logging: { clusterLogging: [{ types: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'], enabled: false }] },
      identity: { oidc: { issuer: `https://oidc.eks.${region}.amazonaws.com/id/${id}` } },
      status: 'ACTIVE',
      certificateAuthority: { data: spec.certificateAuthorityData ?? fakeCertificate(ids.hex(64)) },
      platformVersion: 'eks.12',
      tags: { ...(spec.tags ?? {}) },
      health: { issues: [] },
      accessConfig: { authenticationMode: spec.authenticationMode ?? 'API_AND_CONFIG_MAP', bootstrapClusterCreatorAdminPermissions: true },
      upgradePolicy: { supportType: 'STANDARD' },
    };
    this.clusters.set(spec.name, { cluster, accessEntries: new Map(), nodegroups: new Map(), eksMappedRoles: new Set() });
    this.account.note('eks', `cluster ${spec.name} (Kubernetes ${cluster.version}) at ${cluster.endpoint}${spec.endpointAccess === 'private' ? ', private endpoint only' : ''}`);
    return clone(cluster);
  }

  require(name: string | undefined): ClusterRecord {
    const record = name === undefined ? undefined : this.clusters.get(name);
    if (!record) throw eksNotFound(`No cluster found for name: ${name}.`, { clusterName: name ?? '' });
    return record;
  }

  connection(record: ClusterRecord): ClusterConnection {
    return {
      name: record.cluster.name,
      endpoint: record.cluster.endpoint,
      certificateAuthority: record.cluster.certificateAuthority?.data ?? '',
      serviceIpv4Cidr: record.cluster.kubernetesNetworkConfig?.serviceIpv4Cidr ?? '172.20.0.0/16',
    };
  }

  /**
   * Whether a node authenticating as `roleArn` may register: an EC2_LINUX/EC2_WINDOWS (or
   * STANDARD in system:nodes) access entry, a role EKS mapped itself, or, for clusters
   * that still read aws-auth, whatever the API server says (`undefined` = ask it).
   */
  nodeAuthorization(clusterName: string, roleArn: string): 'access-entry' | 'ask-aws-auth' | 'denied' {
    const record = this.require(clusterName);
    const entry = record.accessEntries.get(roleArn);
    if (entry && (entry.type === 'EC2_LINUX' || entry.type === 'EC2_WINDOWS' || entry.kubernetesGroups?.includes('system:nodes'))) return 'access-entry';
    if (record.eksMappedRoles.has(roleArn)) return 'access-entry';
    return record.cluster.accessConfig?.authenticationMode === 'API' ? 'denied' : 'ask-aws-auth';
  }

  // ---- access entries ----

  createAccessEntry(input: CreateAccessEntryCommandInput): { accessEntry: AccessEntry } {
    const record = this.require(input.clusterName);
    if (record.cluster.accessConfig?.authenticationMode === 'CONFIG_MAP') {
      throw eksInvalidRequest("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.", { clusterName: record.cluster.name });
    }
    const principal = input.principalArn ?? '';
    if (!/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+/.test(principal)) throw eksInvalidParameter(`The principalArn ${principal} is not a valid IAM principal ARN.`);
    if (record.accessEntries.has(principal)) throw eksInUse('The specified access entry resource is already in use on this cluster.', { clusterName: record.cluster.name });
    const type = input.type ?? 'STANDARD';
    if (!['STANDARD', 'EC2_LINUX', 'EC2_WINDOWS', 'FARGATE_LINUX', 'HYBRID_LINUX', 'HYPERPOD_LINUX', 'EC2'].includes(type)) {
      throw eksInvalidParameter(`The type ${type} is not valid.`);
    }
    if (type !== 'STANDARD' && (input.kubernetesGroups?.length || input.username)) {
      throw eksInvalidParameter(`kubernetesGroups and username cannot be specified for access entries of type ${type}.`);
    }
    const now = this.account.clock.date();
    const roleName = principal.split('/').pop();
    const accessEntry: AccessEntry = {
      clusterName: record.cluster.name,
      principalArn: principal,
      kubernetesGroups: input.kubernetesGroups ?? [],
      accessEntryArn: `arn:aws:eks:${this.account.region}:${this.account.accountId}:access-entry/${record.cluster.name}/${principal.includes(':role/') ? 'role' : 'user'}/${this.account.accountId}/${roleName}/${this.account.ids.uuid()}`,
      createdAt: now,
      modifiedAt: now,
      tags: input.tags ?? {},
      username: input.username ?? (type === 'STANDARD'
        ? principal.includes(':role/') ? `arn:aws:sts::${this.account.accountId}:assumed-role/${roleName}/{{SessionName}}` : principal
        : type === 'EC2_WINDOWS' ? 'system:node:{{EC2PrivateDNSName}}' : 'system:node:{{EC2PrivateDNSName}}'),
      type,
    };
    record.accessEntries.set(principal, accessEntry);
    return { accessEntry: clone(accessEntry) };
  }

  // ---- managed node groups ----

  createNodegroup(input: CreateNodegroupCommandInput): { nodegroup: Nodegroup } {
    const { ids, clock } = this.account;
    const { ec2 } = this.uses;
    const record = this.require(input.clusterName);
    const cluster = record.cluster;
    const names = { clusterName: cluster.name, nodegroupName: input.nodegroupName ?? '' };
    if (cluster.status !== 'ACTIVE') throw eksInvalidRequest(`Cluster ${cluster.name} is not in ACTIVE state.`, names);
    const name = input.nodegroupName ?? '';
    if (!/^[0-9A-Za-z][A-Za-z0-9\-_]{0,62}$/.test(name)) throw eksInvalidParameter(`Nodegroup name ${name} is not valid.`, names);
    if (record.nodegroups.has(name)) throw eksInUse(`NodeGroup already exists with name ${name} and cluster name ${cluster.name}`, names);
    if (!input.nodeRole) throw eksInvalidParameter('nodeRole is required.', names);
    const subnets = input.subnets ?? [];
    if (subnets.length === 0) throw eksInvalidParameter('Subnets are required.', names);
    for (const s of subnets) if (!ec2.subnets.has(s)) throw eksInvalidParameter(`The subnet ID '${s}' does not exist`, names);

    const scaling = { minSize: input.scalingConfig?.minSize ?? 1, maxSize: input.scalingConfig?.maxSize ?? 2, desiredSize: input.scalingConfig?.desiredSize ?? 2 };
    if (scaling.maxSize < 1 || scaling.minSize > scaling.maxSize || scaling.desiredSize < scaling.minSize || scaling.desiredSize > scaling.maxSize) {
      throw eksInvalidParameter(`Invalid scaling configuration: minSize ${scaling.minSize}, maxSize ${scaling.maxSize}, desiredSize ${scaling.desiredSize}.`, names);
    }

    // 1. the user's launch template version, if any, and what it forbids or implies
    let userData: Record<string, unknown> = {};
    let userTemplate: { id: string; name: string; version: string } | undefined;
    if (input.launchTemplate) {
      if (input.diskSize !== undefined) throw eksInvalidParameter('Disk size must be specified within the launch template.', names);
      if (input.remoteAccess) throw eksInvalidParameter('Remote access configuration cannot be specified with a launch template.', names);
      try {
        const lt = ec2.launchTemplates.find({ LaunchTemplateId: input.launchTemplate.id, LaunchTemplateName: input.launchTemplate.name });
        const version = ec2.launchTemplates.resolveVersion(lt, input.launchTemplate.version);
        userData = clone(version.LaunchTemplateData ?? {}) as Record<string, unknown>;
        userTemplate = { id: lt.template.LaunchTemplateId, name: lt.template.LaunchTemplateName, version: String(version.VersionNumber) };
      } catch (error) {
        throw eksInvalidParameter(`Launch template ${input.launchTemplate.id ?? input.launchTemplate.name} version ${input.launchTemplate.version ?? '$Default'} is not valid: ${(error as Error).message}`, names);
      }
      const data = userData as RequestLaunchTemplateData;
      const forbidden = [
        data.IamInstanceProfile ? 'IamInstanceProfile' : undefined,
        data.NetworkInterfaces?.some((n) => n.SubnetId) ? 'NetworkInterfaces.SubnetId' : undefined,
        data.InstanceInitiatedShutdownBehavior ? 'InstanceInitiatedShutdownBehavior' : undefined,
        data.HibernationOptions?.Configured ? 'HibernationOptions' : undefined,
      ].filter(Boolean);
      if (forbidden.length) {
        throw eksInvalidParameter(`Launch template ${userTemplate.name} contains a parameter that isn't valid for an Amazon EKS managed node group: ${forbidden.join(', ')}`, names);
      }
      if (data.InstanceType && input.instanceTypes?.length) {
        throw eksInvalidParameter('Instance types cannot be specified in both the launch template and the node group.', names);
      }
    }
    const ltData = userData as RequestLaunchTemplateData;
    const customAmi = ltData.ImageId !== undefined;
    const instanceTypes = ltData.InstanceType ? [ltData.InstanceType] : input.instanceTypes?.length ? input.instanceTypes : ['t3.medium'];
    const architectures = new Set(instanceTypes.map((t) => instanceTypeArchitecture(t)));
    if (architectures.has(undefined)) throw eksInvalidParameter(`Instance type ${instanceTypes.find((t) => !instanceTypeArchitecture(t))} is not supported.`, names);

    // 2. the AMI: the user's (CUSTOM) or the EKS AMI of the amiType / release
    let amiType: AMITypes;
    let imageId: string;
    let releaseVersion: string;
    const version = input.version ?? cluster.version;
    if (customAmi) {
      if (input.amiType && input.amiType !== 'CUSTOM') {
        throw eksInvalidParameter('You cannot specify an AMI Type other than CUSTOM, when specifying an image id in your launch template.', names);
      }
      if (input.releaseVersion || input.version) {
        throw eksInvalidParameter('You cannot specify releaseVersion or version when your launch template specifies an image id.', names);
      }
      amiType = 'CUSTOM';
      imageId = ec2.resolveImageAlias(ltData.ImageId!);
      releaseVersion = imageId;
    } else {
      const arch = [...architectures][0];
      amiType = input.amiType ?? (Number(version.split('.')[1]) >= 30
        ? arch === 'arm64' ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD'
        : arch === 'arm64' ? 'AL2_ARM_64' : 'AL2_x86_64');
      const info = AMI_TYPES[amiType];
      if (!info) throw eksInvalidParameter(`amiType ${amiType} is not supported by the sandbox.`, names);
      if (architectures.size > 1 || [...architectures][0] !== info.architecture) {
        throw eksInvalidParameter(`[${instanceTypes.join(', ')}] is not a valid instance type for requested amiType ${amiType}`, names);
      }
      if (compareMinor(version, cluster.version) > 0) {
        throw eksInvalidParameter(`Requested Nodegroup version ${version} is newer than the cluster version ${cluster.version}.`, names);
      }
      ({ imageId, releaseVersion } = resolveRelease(this.uses, amiType, version, input.releaseVersion, names));
    }

    // 3. the EKS-owned launch template and the node role's identity
    const uuid = ids.uuid();
    const capacityType = input.capacityType ?? 'ON_DEMAND';
    const profileName = `eks-${uuid}`;
    ec2.instanceProfiles.set(profileName, input.nodeRole);
    const labels: Record<string, string> = {
      ...(input.labels ?? {}),
      'eks.amazonaws.com/nodegroup-image': imageId,
      'eks.amazonaws.com/capacityType': capacityType,
      'eks.amazonaws.com/nodegroup': name,
      ...(userTemplate ? { 'eks.amazonaws.com/sourceLaunchTemplateId': userTemplate.id, 'eks.amazonaws.com/sourceLaunchTemplateVersion': userTemplate.version } : {}),
    };
    const taints = (input.taints ?? []).map(toKubeTaint);
    const image = ec2.images.get(imageId);
    let mergedUserData = ltData.UserData;
    if (!customAmi && image?.family) {
      const userRaw = ltData.UserData ? fromBase64(ltData.UserData) : undefined;
      mergedUserData = toBase64(mergeManagedUserData(image.family, userRaw, this.connection(record), { labels, taints }));
    }
    const windows = image?.family === 'windows';
    const eksData: RequestLaunchTemplateData = {
      ...(ltData as RequestLaunchTemplateData),
      ImageId: imageId,
      IamInstanceProfile: { Arn: `arn:aws:iam::${this.account.accountId}:instance-profile/${profileName}` },
      SecurityGroupIds: ltData.SecurityGroupIds ?? ltData.NetworkInterfaces?.[0]?.Groups ?? [cluster.resourcesVpcConfig?.clusterSecurityGroupId ?? ''],
      MetadataOptions: { HttpPutResponseHopLimit: 2, HttpTokens: 'required', ...(ltData.MetadataOptions ?? {}) },
      ...(mergedUserData !== undefined ? { UserData: mergedUserData } : {}),
      ...(ltData.BlockDeviceMappings
        ? {}
        : { BlockDeviceMappings: [{ DeviceName: windows ? '/dev/sda1' : '/dev/xvda', Ebs: { VolumeSize: input.diskSize ?? (windows ? 50 : 20), VolumeType: 'gp3', DeleteOnTermination: true } }] }),
    };
    const eksTemplate = ec2.launchTemplates.create(
      {
        LaunchTemplateName: `eks-${uuid}`,
        LaunchTemplateData: eksData,
        TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'eks:cluster-name', Value: cluster.name }, { Key: 'eks:nodegroup-name', Value: name }] }],
      },
      { createdBy: `arn:aws:sts::${this.account.accountId}:assumed-role/${EKS_SERVICE_ROLE}/EKS` },
    ).LaunchTemplate!;

    // 4. the Auto Scaling group, tagged so that its instances carry the cluster ownership
    const groupName = `eks-${name}-${uuid}`;
    const spec = { LaunchTemplateId: eksTemplate.LaunchTemplateId, Version: '1' };
    this.uses.autoscaling.createAutoScalingGroup({
      AutoScalingGroupName: groupName,
      ...(ltData.InstanceType
        ? { LaunchTemplate: spec }
        : { MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: spec, Overrides: instanceTypes.map((InstanceType) => ({ InstanceType })) }, InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: capacityType === 'SPOT' ? 0 : 100, OnDemandAllocationStrategy: 'prioritized', SpotAllocationStrategy: 'price-capacity-optimized' } } }),
      MinSize: scaling.minSize,
      MaxSize: scaling.maxSize,
      DesiredCapacity: scaling.desiredSize,
      VPCZoneIdentifier: subnets.join(','),
      CapacityRebalance: capacityType === 'SPOT',
      Tags: [
        { Key: 'eks:cluster-name', Value: cluster.name, PropagateAtLaunch: true },
        { Key: 'eks:nodegroup-name', Value: name, PropagateAtLaunch: true },
        { Key: 'k8s.io/cluster-autoscaler/enabled', Value: 'true', PropagateAtLaunch: true },
        { Key: `k8s.io/cluster-autoscaler/${cluster.name}`, Value: 'owned', PropagateAtLaunch: true },
        { Key: `kubernetes.io/cluster/${cluster.name}`, Value: 'owned', PropagateAtLaunch: true },
      ],
    });

    // 5. the node role may join: an access entry, or EKS's own aws-auth mapping
    const authMode = cluster.accessConfig?.authenticationMode;
    if (authMode === 'CONFIG_MAP') record.eksMappedRoles.add(input.nodeRole);
    else if (!record.accessEntries.has(input.nodeRole)) {
      this.createAccessEntry({ clusterName: cluster.name, principalArn: input.nodeRole, type: windows ? 'EC2_WINDOWS' : 'EC2_LINUX' });
    }

    const now = clock.date();
    const nodegroup: NodegroupRecord['nodegroup'] = {
      nodegroupName: name,
      nodegroupArn: `arn:aws:eks:${this.account.region}:${this.account.accountId}:nodegroup/${cluster.name}/${name}/${uuid}`,
      clusterName: cluster.name,
      version: customAmi ? cluster.version : version,
      releaseVersion,
      createdAt: now,
      modifiedAt: now,
      status: 'CREATING',
      capacityType,
      scalingConfig: scaling,
      instanceTypes: ltData.InstanceType ? undefined : instanceTypes,
      subnets: [...subnets],
      ...(input.remoteAccess ? { remoteAccess: clone(input.remoteAccess) } : {}),
      amiType,
      nodeRole: input.nodeRole,
      labels: { ...(input.labels ?? {}) },
      taints: clone(input.taints ?? []),
      resources: { autoScalingGroups: [{ name: groupName }] },
      ...(input.launchTemplate ? {} : { diskSize: input.diskSize ?? (windows ? 50 : 20) }),
      health: { issues: [] },
      updateConfig: clone(input.updateConfig ?? { maxUnavailable: 1 }),
      ...(input.nodeRepairConfig ? { nodeRepairConfig: clone(input.nodeRepairConfig) } : {}),
      ...(userTemplate ? { launchTemplate: { id: userTemplate.id, name: userTemplate.name, version: userTemplate.version } } : {}),
      tags: { ...(input.tags ?? {}) },
    };
    const ng: NodegroupRecord = { nodegroup, autoScalingGroupName: groupName, eksLaunchTemplateId: eksTemplate.LaunchTemplateId! };
    record.nodegroups.set(name, ng);
    this.account.note('eks', `node group ${cluster.name}/${name} CREATING: ${amiType} ${releaseVersion} (${imageId}) in ${groupName}`);
    this.watchCreation(ng, clock.now() + CREATE_TIMEOUT_MS);
    return { nodegroup: clone(nodegroup) };
  }

  /** CREATING → ACTIVE once desiredSize nodes have joined, else CREATE_FAILED. */
  private watchCreation(ng: NodegroupRecord, deadline: number): void {
    const check = () => {
      const group = this.uses.autoscaling.groups.get(ng.autoScalingGroupName);
      const ids = [...(group?.instances.keys() ?? [])];
      const joined = ids.filter((id) => this.uses.joins.isJoined(id));
      const desired = ng.nodegroup.scalingConfig?.desiredSize ?? 0;
      if (joined.length >= desired) {
        ng.nodegroup.status = 'ACTIVE';
        ng.nodegroup.modifiedAt = this.account.clock.date();
        this.account.note('eks', `node group ${ng.nodegroup.clusterName}/${ng.nodegroup.nodegroupName} ACTIVE`);
        return;
      }
      if (this.account.clock.now() >= deadline) {
        ng.nodegroup.status = 'CREATE_FAILED';
        ng.nodegroup.modifiedAt = this.account.clock.date();
        ng.nodegroup.health = {
          issues: [{ code: 'NodeCreationFailure', message: 'Instances failed to join the kubernetes cluster', resourceIds: ids.filter((id) => !joined.includes(id)) }],
        };
        this.account.note('eks', `node group ${ng.nodegroup.clusterName}/${ng.nodegroup.nodegroupName} CREATE_FAILED: instances failed to join`);
        return;
      }
      this.account.clock.after(30_000, check);
    };
    this.account.clock.after(5_000, check);
  }

  requireNodegroup(clusterName: string | undefined, nodegroupName: string | undefined): NodegroupRecord {
    const record = this.require(clusterName);
    const ng = record.nodegroups.get(nodegroupName ?? '');
    if (!ng) throw eksNotFound(`No node group found for name: ${nodegroupName}.`, { clusterName: record.cluster.name, nodegroupName: nodegroupName ?? '' });
    return ng;
  }

  routes(): Route[] {
    return [
      route('eks', DescribeClusterCommand, (i) => ({ cluster: clone(this.require(i.name).cluster) })),
      route('eks', ListClustersCommand, (i) => {
        if (i.maxResults !== undefined && (i.maxResults < 1 || i.maxResults > 100)) throw eksInvalidParameter('maxResults must be between 1 and 100.');
        const { page, nextToken } = paginate([...this.clusters.keys()], i.maxResults ?? 100, i.nextToken, () => eksInvalidParameter('The nextToken is not valid.'));
        return { clusters: page, nextToken };
      }),
      route('eks', CreateAccessEntryCommand, (i) => this.createAccessEntry(i)),
      route('eks', ListAccessEntriesCommand, (i) => {
        const record = this.require(i.clusterName);
        const { page, nextToken } = paginate([...record.accessEntries.keys()], i.maxResults ?? 100, i.nextToken, () => eksInvalidParameter('The nextToken is not valid.'));
        return { accessEntries: page, nextToken };
      }),
      route('eks', DescribeAccessEntryCommand, (i) => {
        const entry = this.require(i.clusterName).accessEntries.get(i.principalArn ?? '');
        if (!entry) throw eksNotFound(`The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.`, { clusterName: i.clusterName ?? '' });
        return { accessEntry: clone(entry) };
      }),
      route('eks', DeleteAccessEntryCommand, (i) => {
        const record = this.require(i.clusterName);
        if (!record.accessEntries.delete(i.principalArn ?? '')) throw eksNotFound('The specified principalArn could not be found.', { clusterName: i.clusterName ?? '' });
        return {};
      }),
      route('eks', CreateNodegroupCommand, (i) => this.createNodegroup(i)),
      route('eks', DescribeNodegroupCommand, (i) => ({ nodegroup: clone(this.requireNodegroup(i.clusterName, i.nodegroupName).nodegroup) })),
      route('eks', ListNodegroupsCommand, (i) => {
        const record = this.require(i.clusterName);
        const { page, nextToken } = paginate([...record.nodegroups.keys()], i.maxResults ?? 100, i.nextToken, () => eksInvalidParameter('The nextToken is not valid.'));
        return { nodegroups: page, nextToken };
      }),
      ...this.updates.routes(),
    ];
  }
}

function toKubeTaint(t: Taint): KubeTaint {
  const effect = { NO_SCHEDULE: 'NoSchedule', NO_EXECUTE: 'NoExecute', PREFER_NO_SCHEDULE: 'PreferNoSchedule' }[t.effect ?? 'NO_SCHEDULE'] as KubeTaint['effect'];
  return { key: t.key ?? '', ...(t.value !== undefined ? { value: t.value } : {}), effect };
}

function compareMinor(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** A PEM-shaped certificate, base64 encoded as EKS returns certificateAuthority.data. */
function fakeCertificate(seed: string): string {
  const body = Buffer.from(seed.repeat(12), 'hex').toString('base64').match(/.{1,64}/g)!.join('\n');
  return Buffer.from(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`).toString('base64');
}

