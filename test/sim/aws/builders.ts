/**
 * Scenario builders: the few calls a scenario needs to stand up a realistic fleet, done the
 * way an operator would (a launch template whose user data really bootstraps the cluster,
 * an Auto Scaling group tagged with the cluster ownership tag, lifecycle hooks, the node
 * role with its three managed policies and its access entry). They call the services
 * directly, so they do not appear in `account.calls`.
 */
import type { AMITypes, CreateNodegroupCommandInput, Nodegroup } from '@aws-sdk/client-eks';
import type { LifecycleHookSpecification } from '@aws-sdk/client-auto-scaling';
import type { AutoScalingService } from './autoscaling';
import { recommendedRelease, type Releases } from './ami-catalogue';
import type { AmiFamily } from './ec2-records';
import type { EksService } from './eks';
import { NODE_ROLE_POLICIES, type IamService } from './iam';
import { instanceTypeArchitecture } from './instance-types';
import type { KubeTaint } from './node-registry';
import { bootstrapUserData, toBase64 } from './user-data';

export interface SeededVpc {
  vpcId: string;
  subnets: { subnetId: string; availabilityZone: string }[];
}

/** The account the builders set up: its services, seeding its VPC once (account.ts). */
export interface BuiltAccount extends Releases {
  readonly accountId: string;
  readonly region: string;
  readonly iam: IamService;
  readonly autoscaling: AutoScalingService;
  readonly eks: EksService;
  seedVpc(): SeededVpc;
}

export function seedVpc(account: Pick<BuiltAccount, 'ec2' | 'region'>): SeededVpc {
  const vpc = account.ec2.addVpc('10.0.0.0/16', [{ Key: 'Name', Value: 'sandbox' }]);
  const subnets = ['a', 'b', 'c'].map((letter, i) => {
    const record = account.ec2.addSubnet({
      vpcId: vpc.VpcId!,
      cidr: `10.0.${i * 32}.0/19`,
      availabilityZone: `${account.region}${letter}`,
      tags: [{ Key: 'Name', Value: `sandbox-private-${account.region}${letter}` }],
    });
    return { subnetId: record.subnet.SubnetId, availabilityZone: record.subnet.AvailabilityZone };
  });
  return { vpcId: vpc.VpcId!, subnets };
}

export interface HookSpec {
  name?: string;
  heartbeatTimeout?: number;
  defaultResult?: 'CONTINUE' | 'ABANDON';
  notificationMetadata?: string;
}

export interface SelfManagedGroupSpec {
  cluster: string;
  name: string;
  amiFamily?: AmiFamily;
  /** Defaults to the recommended EKS AMI of the family for the cluster's version. */
  imageId?: string;
  instanceType?: string;
  min?: number;
  max?: number;
  desired?: number;
  hooks?: { launch?: HookSpec; terminate?: HookSpec };
  /** Extra ASG tags (propagated to instances). */
  tags?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: KubeTaint[];
  /** Raw user data to use instead of the generated bootstrap (to test broken nodes). */
  userData?: string;
  /** Version the group launches from; `$Latest` by default. */
  launchTemplateVersion?: string;
  windows?: { version: '2019' | '2022' | '2025'; edition: 'Core' | 'Full' };
  /**
   * Skip the node role's access entry (to test Unauthorized nodes): unless the test maps the
   * role in the cluster's aws-auth ConfigMap, the role is then not mapped at all.
   */
  skipAccessEntry?: boolean;
  /** Managed policies attached to the node role; default the three a node needs (NODE_ROLE_POLICIES). */
  nodeRolePolicies?: readonly string[];
  /**
   * Whether the group's `kubernetes.io/cluster/<name>` tag propagates to instances (default
   * true). Hand-made groups often carry it for discovery only, so instances launch untagged.
   */
  ownershipTagPropagates?: boolean;
}

export interface SelfManagedGroup {
  autoScalingGroupName: string;
  launchTemplateId: string;
  launchTemplateName: string;
  imageId: string;
  roleArn: string;
  launchHookName?: string;
  terminateHookName?: string;
}

export function createSelfManagedGroup(account: BuiltAccount, spec: SelfManagedGroupSpec): SelfManagedGroup {
  const cluster = account.eks.require(spec.cluster);
  const vpc = account.seedVpc();
  const family = spec.amiFamily ?? 'al2023';
  const instanceType = spec.instanceType ?? 'm5.large';
  const arch = instanceTypeArchitecture(instanceType) ?? 'x86_64';
  const imageId = spec.imageId ?? recommendedImage(account, family, arch, cluster.cluster.version, spec.windows);
  const roleName = `${spec.name}-node`;
  const roleArn = `arn:aws:iam::${account.accountId}:role/${roleName}`;
  account.iam.putNodeRole(roleArn, spec.nodeRolePolicies ?? NODE_ROLE_POLICIES);
  account.iam.addInstanceProfile(roleName, roleArn);
  if (!spec.skipAccessEntry && cluster.cluster.accessConfig?.authenticationMode !== 'CONFIG_MAP' && !cluster.accessEntries.has(roleArn)) {
    account.eks.createAccessEntry({ clusterName: spec.cluster, principalArn: roleArn, type: family === 'windows' ? 'EC2_WINDOWS' : 'EC2_LINUX' });
  }
  const raw = spec.userData ?? bootstrapUserData(family, account.eks.connection(cluster), { labels: spec.labels ?? {}, taints: spec.taints ?? [] });
  const template = account.ec2.launchTemplates.create({
    LaunchTemplateName: spec.name,
    LaunchTemplateData: {
      ImageId: imageId,
      InstanceType: instanceType as never,
      IamInstanceProfile: { Name: roleName },
      SecurityGroupIds: [cluster.cluster.resourcesVpcConfig?.clusterSecurityGroupId ?? ''],
      UserData: toBase64(raw),
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
      TagSpecifications: [
        { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: `${spec.name}-node` }] },
        { ResourceType: 'volume', Tags: [{ Key: 'Name', Value: `${spec.name}-root` }] },
      ],
    },
  }).LaunchTemplate!;
  const hooks: LifecycleHookSpecification[] = [];
  const launchHookName = spec.hooks?.launch ? spec.hooks.launch.name ?? `${spec.name}-launch` : undefined;
  const terminateHookName = spec.hooks?.terminate ? spec.hooks.terminate.name ?? `${spec.name}-terminate` : undefined;
  if (spec.hooks?.launch) hooks.push(hookSpec(launchHookName!, 'autoscaling:EC2_INSTANCE_LAUNCHING', spec.hooks.launch));
  if (spec.hooks?.terminate) hooks.push(hookSpec(terminateHookName!, 'autoscaling:EC2_INSTANCE_TERMINATING', spec.hooks.terminate));
  const min = spec.min ?? 0;
  const desired = spec.desired ?? min;
  account.autoscaling.createAutoScalingGroup({
    AutoScalingGroupName: spec.name,
    LaunchTemplate: { LaunchTemplateId: template.LaunchTemplateId, Version: spec.launchTemplateVersion ?? '$Latest' },
    MinSize: min,
    MaxSize: spec.max ?? Math.max(desired, min, 1),
    DesiredCapacity: desired,
    VPCZoneIdentifier: vpc.subnets.map((s) => s.subnetId).join(','),
    LifecycleHookSpecificationList: hooks,
    Tags: [
      { Key: `kubernetes.io/cluster/${spec.cluster}`, Value: 'owned', PropagateAtLaunch: spec.ownershipTagPropagates ?? true },
      { Key: 'Name', Value: `${spec.name}-node`, PropagateAtLaunch: true },
      ...Object.entries(spec.tags ?? {}).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })),
    ],
  });
  return {
    autoScalingGroupName: spec.name,
    launchTemplateId: template.LaunchTemplateId!,
    launchTemplateName: template.LaunchTemplateName!,
    imageId,
    roleArn,
    ...(launchHookName ? { launchHookName } : {}),
    ...(terminateHookName ? { terminateHookName } : {}),
  };
}

function hookSpec(name: string, transition: string, spec: HookSpec): LifecycleHookSpecification {
  return {
    LifecycleHookName: name,
    LifecycleTransition: transition,
    HeartbeatTimeout: spec.heartbeatTimeout ?? 300,
    DefaultResult: spec.defaultResult ?? 'ABANDON',
    ...(spec.notificationMetadata !== undefined ? { NotificationMetadata: spec.notificationMetadata } : {}),
  };
}

/** The AMI type EKS would use for a family and architecture. */
export function amiTypeFor(family: AmiFamily, arch: 'x86_64' | 'arm64', windows?: SelfManagedGroupSpec['windows']): AMITypes {
  switch (family) {
    case 'al2023': return arch === 'arm64' ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD';
    case 'al2': return arch === 'arm64' ? 'AL2_ARM_64' : 'AL2_x86_64';
    case 'bottlerocket': return arch === 'arm64' ? 'BOTTLEROCKET_ARM_64' : 'BOTTLEROCKET_x86_64';
    case 'windows': return `WINDOWS_${(windows?.edition ?? 'Core').toUpperCase()}_${windows?.version ?? '2022'}_x86_64` as AMITypes;
  }
}

function recommendedImage(account: BuiltAccount, family: AmiFamily, arch: 'x86_64' | 'arm64', version: string, windows?: SelfManagedGroupSpec['windows']): string {
  const release = recommendedRelease(account, amiTypeFor(family, arch, windows), version);
  if (!release) throw new Error(`the sandbox catalogue has no ${family} ${arch} AMI for Kubernetes ${version}`);
  return release.imageId;
}

export interface ManagedNodegroupSpec {
  cluster: string;
  name: string;
  amiType?: AMITypes;
  instanceTypes?: string[];
  min?: number;
  max?: number;
  desired?: number;
  releaseVersion?: string;
  version?: string;
  labels?: Record<string, string>;
  taints?: CreateNodegroupCommandInput['taints'];
  tags?: Record<string, string>;
  capacityType?: 'ON_DEMAND' | 'SPOT';
  nodeRole?: string;
  /** A user launch template: raw user data to merge, or a custom AMI (then it must bootstrap). */
  launchTemplate?: { userData?: string; imageId?: string; instanceType?: string };
  updateConfig?: CreateNodegroupCommandInput['updateConfig'];
}

export function createManagedNodegroup(account: BuiltAccount, spec: ManagedNodegroupSpec): Nodegroup {
  const vpc = account.seedVpc();
  const nodeRole = spec.nodeRole ?? `arn:aws:iam::${account.accountId}:role/${spec.cluster}-managed-node`;
  // a working node role carries the node policies; a role groups share keeps what it has
  if (!account.iam.roles.has(nodeRole.split('/').pop()!)) account.iam.putNodeRole(nodeRole);
  let launchTemplate: CreateNodegroupCommandInput['launchTemplate'];
  if (spec.launchTemplate) {
    const created = account.ec2.launchTemplates.create({
      LaunchTemplateName: `${spec.name}-template`,
      LaunchTemplateData: {
        ...(spec.launchTemplate.imageId ? { ImageId: spec.launchTemplate.imageId } : {}),
        ...(spec.launchTemplate.instanceType ? { InstanceType: spec.launchTemplate.instanceType as never } : {}),
        ...(spec.launchTemplate.userData !== undefined ? { UserData: toBase64(spec.launchTemplate.userData) } : {}),
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: `${spec.name}-node` }] }],
      },
    }).LaunchTemplate!;
    launchTemplate = { id: created.LaunchTemplateId, version: String(created.LatestVersionNumber) };
  }
  return account.eks.createNodegroup({
    clusterName: spec.cluster,
    nodegroupName: spec.name,
    nodeRole,
    subnets: vpc.subnets.map((s) => s.subnetId),
    scalingConfig: { minSize: spec.min ?? 1, maxSize: spec.max ?? Math.max(spec.desired ?? 2, spec.min ?? 1, 2), desiredSize: spec.desired ?? 2 },
    ...(spec.amiType ? { amiType: spec.amiType } : {}),
    ...(spec.instanceTypes && !spec.launchTemplate?.instanceType ? { instanceTypes: spec.instanceTypes } : {}),
    ...(spec.releaseVersion ? { releaseVersion: spec.releaseVersion } : {}),
    ...(spec.version ? { version: spec.version } : {}),
    ...(spec.labels ? { labels: spec.labels } : {}),
    ...(spec.taints ? { taints: spec.taints } : {}),
    ...(spec.tags ? { tags: spec.tags } : {}),
    ...(spec.capacityType ? { capacityType: spec.capacityType } : {}),
    ...(spec.updateConfig ? { updateConfig: spec.updateConfig } : {}),
    ...(launchTemplate ? { launchTemplate } : {}),
  }).nodegroup!;
}
