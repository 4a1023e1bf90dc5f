import { identifyImage } from '../ami/ami-family.js';
import { imageTrustFor, judgeProvenance, OWNERS_TAG, ownerOfImage } from '../ami/image-provenance.js';
import { imageSourceOf } from '../ami/resolve-target.js';
import { readYaml } from '../yaml/read-yaml.js';
import { type AwsAuthFact, readAwsAuth, roleArnWithoutPath } from './aws-auth.js';
import { type AuthenticationMode, judgeNodeRoleAccess, NODE_USERNAME, nodeEntryType, nodeGroups, readsAccessEntries, readsAwsAuth } from './node-role-access.js';
import { ec2ImageSource } from '../ami/describe-images.js';
import { type AccessEntryView, describeAccessEntry } from '../aws/access-entries.js';
import { snapshotGroup } from '../aws/auto-scaling-groups.js';
import type { AwsScope } from '../aws/clients.js';
import { describeCluster as readCluster } from '../aws/clusters.js';
import type { ImageView } from '../aws/images.js';
import { findNodegroup } from '../aws/nodegroups.js';
import { describeSubnets } from '../aws/subnets.js';
import { partitionOfArn } from '../aws/partition.js';
import { now } from '../clock.js';
import { describeInstanceProfile, instanceProfileNameOf, listAttachedPolicyArns, roleNameOf } from '../aws/iam.js';
import { describeTemplateVersion, type TemplateVersionView } from '../aws/launch-template-versions.js';
import { ConfigurationError, LaunchTemplateValidationError, type LaunchTemplateViolation } from '../errors.js';
import type { KubeClients } from '../kube/client.js';
import { type BootstrapChange, describeBootstrapChanges } from '../launch-templates/bootstrap-settings.js';
import { renderLaunchTemplateVersion } from './prepare-launch-template.js';
import type { PreflightCheck } from './preflight-check.js';
import { judgeKubernetesVersion, kubernetesVersionFact, type KubernetesVersionFact } from './preflight-kubernetes-version.js';

/**
 * Preflight: what must hold before a rollout touches a node group, checked with reads only.
 * `gatherPreflightFacts` reads (EC2, EKS, IAM, Auto Scaling, the cluster's aws-auth);
 * `judgePreflight` decides, purely, and explains each failure with what an operator must do;
 * `runPreflight` does both. A failed preflight has changed nothing.
 */

export interface PreflightInput {
  cluster: string;
  group: { kind: 'managed' | 'self-managed'; name: string; autoScalingGroup?: string; launchTemplate?: { id: string; version: number } };
  target: { imageId: string; imageName?: string; release?: string };
  /** instances the rollout adds at once (surge), per the plan; 0 for minimal */
  surge: number;
}

export type { PreflightCheck, PreflightCheckName } from './preflight-check.js';

export interface PreflightReport {
  ok: boolean;
  checks: PreflightCheck[];
  summary: string;
}

export interface PreflightPorts {
  aws: AwsScope;
  /** reading aws-auth and the VPC CNI's settings (max pods) needs the cluster's API (an EKS token, as for drains) */
  kube: Pick<KubeClients, 'core' | 'apps'>;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

// ---- facts: what the reads found, as plain data ----

export type { AuthenticationMode } from './node-role-access.js';

export type ImageFact =
  | { imageId: string; found: false }
  /** `deprecatedAt`: the image's DeprecationTime, when it had passed at the time of the read */
  | { imageId: string; found: true; state: string; name?: string; stateReason?: string; deprecatedAt?: string };

/** Whether the group trusts the target's owner (the group's source of images and its `ami-owners`). */
export type ProvenanceFact =
  | { status: 'trusted'; owner: string; source: 'eks-optimized' | 'custom' }
  | { status: 'untrusted'; owner: string; source: 'eks-optimized' | 'custom'; reason: string }
  /** the image could not be read: image-available says why */
  | { status: 'unknown'; reason: string };

export type TemplateFact =
  /** nothing to validate: a managed group whose image EKS picks by release */
  | { status: 'not-needed'; reason: string }
  | { status: 'missing'; reason: string }
  | { status: 'not-checked'; reason: string }
  | { status: 'valid'; launchTemplateId: string; version: number; family: string; changes?: BootstrapChange[] }
  | { status: 'invalid'; launchTemplateId: string; version: number; violations: LaunchTemplateViolation[] }
  | { status: 'unrenderable'; launchTemplateId: string; version: number; reason: string };


export type { AwsAuthFact } from './aws-auth.js';

export type AccessEntryFact = AccessEntryView;

export interface ResolvedNodeRole {
  status: 'resolved';
  instanceProfile: string;
  roleArn: string;
  os: 'linux' | 'windows';
  authenticationMode: AuthenticationMode;
  /** null: no access entry; undefined: not asked (CONFIG_MAP clusters have none) */
  accessEntry?: AccessEntryFact | null;
  /** undefined: not read (an access entry decides, or the cluster ignores aws-auth) */
  awsAuth?: AwsAuthFact;
  /** attached managed policy ARNs; null when the role does not exist */
  attachedPolicies: string[] | null;
}

export type NodeRoleFact =
  | { status: 'skipped'; reason: string }
  | { status: 'unknown'; reason: string }
  | { status: 'no-instance-profile'; launchTemplate: string }
  | { status: 'profile-not-found'; instanceProfile: string }
  | { status: 'profile-without-role'; instanceProfile: string }
  | ResolvedNodeRole;

export interface SubnetFact {
  subnetId: string;
  availabilityZone?: string;
  /** null when the subnet no longer exists */
  freeAddresses: number | null;
}

export type SubnetsFact = { status: 'read'; subnets: SubnetFact[] } | { status: 'unknown'; reason: string };

export interface PreflightFacts {
  cluster: string;
  group: { kind: 'managed' | 'self-managed'; name: string };
  surge: number;
  image: ImageFact;
  /** absent: not gathered (facts built by hand before the check existed) */
  provenance?: ProvenanceFact;
  launchTemplate: TemplateFact;
  nodeRole: NodeRoleFact;
  subnets: SubnetsFact;
  /** absent: not gathered (facts built by hand before the check existed) */
  kubernetesVersion?: KubernetesVersionFact;
}

// ---- the judge (pure) ----

/** Managed policy names a node role needs (the seed's three), each with what is accepted for it. */
export const NODE_ROLE_POLICIES: readonly { name: string; accepted: readonly string[] }[] = [
  { name: 'AmazonEKSWorkerNodePolicy', accepted: ['AmazonEKSWorkerNodePolicy'] },
  { name: 'AmazonEKS_CNI_Policy', accepted: ['AmazonEKS_CNI_Policy'] },
  // PullOnly is the newer, narrower policy AWS recommends in its place
  { name: 'AmazonEC2ContainerRegistryReadOnly', accepted: ['AmazonEC2ContainerRegistryReadOnly', 'AmazonEC2ContainerRegistryPullOnly'] },
];


export function judgePreflight(facts: PreflightFacts): PreflightReport {
  const checks = [judgeImage(facts), ...(facts.provenance ? [judgeOwner(facts.provenance)] : []), judgeTemplate(facts), judgeJoin(facts), judgePolicies(facts), judgeSubnets(facts), ...(facts.kubernetesVersion ? [judgeKubernetesVersion(facts.kubernetesVersion)] : [])];
  const failed = checks.filter((c) => !c.ok);
  const subject = `${facts.cluster}/${facts.group.name}`;
  const summary = failed.length === 0
    ? `preflight passed: ${subject} can roll onto ${facts.image.imageId}`
    : `preflight failed for ${subject}, nothing was changed: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`;
  return { ok: failed.length === 0, checks, summary };
}

function judgeImage({ image }: PreflightFacts): PreflightCheck {
  const name = 'image-available';
  if (!image.found) {
    return {
      name, ok: false,
      detail: `image ${image.imageId} does not exist or is not visible to this account (deregistered, or no longer shared)`,
      fix: 'roll onto an available image: a newer release, or re-share / re-register the custom AMI',
    };
  }
  const label = image.name ? `${image.imageId} (${image.name})` : image.imageId;
  // still launchable, but withdrawn by its owner: a rollout planned before must not land on it
  if (image.state === 'available' && image.deprecatedAt) {
    return {
      name, ok: false,
      detail: `image ${label} is deprecated since ${image.deprecatedAt}`,
      fix: `roll onto a current image (a newer release); for your own AMI, aws ec2 disable-image-deprecation --image-id ${image.imageId} if it is still meant to be used`,
    };
  }
  if (image.state === 'available') return { name, ok: true, detail: `image ${label} is available` };
  const why = image.stateReason ? `: ${image.stateReason}` : '';
  const fix = image.state === 'pending'
    ? 'wait until the image is available, then start the rollout again'
    : image.state === 'disabled'
      ? `re-enable it (aws ec2 enable-image --image-id ${image.imageId}) or roll onto another image`
      : 'roll onto another image';
  return { name, ok: false, detail: `image ${label} is ${image.state}${why}`, fix };
}

function judgeOwner(provenance: ProvenanceFact): PreflightCheck {
  const name = 'image-owner';
  switch (provenance.status) {
    case 'unknown':
      return { name, ok: false, detail: `not checked: ${provenance.reason}` };
    case 'trusted':
      return { name, ok: true, detail: `the image is owned by ${provenance.owner}, ${provenance.source === 'eks-optimized' ? 'Amazon, as an EKS-optimized group requires' : `which the group's ${OWNERS_TAG} allows`}` };
    case 'untrusted':
      return {
        name, ok: false,
        detail: provenance.reason,
        fix: provenance.source === 'eks-optimized'
          ? 'roll onto an image Amazon publishes: the recommended one (rollout <cluster>/<group>) or a release (--ami <release>)'
          : `roll onto an image of an owner the group trusts; if ${provenance.owner} is one, add it to the group's ${OWNERS_TAG} tag (e.g. self,${provenance.owner.split(' ').at(-1)})`,
      };
  }
}

function judgeTemplate({ launchTemplate: t }: PreflightFacts): PreflightCheck {
  const name = 'launch-template-valid';
  switch (t.status) {
    case 'not-needed':
      return { name, ok: true, detail: t.reason };
    case 'missing':
      return { name, ok: false, detail: t.reason, fix: 'give the group a launch template (a rollout creates a new version of it)' };
    case 'not-checked':
      return { name, ok: false, detail: `not checked: ${t.reason}` };
    case 'valid':
      return {
        name,
        ok: true,
        detail: `${t.launchTemplateId} version ${t.version} renders a valid ${t.family} version with the target image; ${t.changes?.length ? `bootstrap changes: ${describeBootstrapChanges(t.changes)}` : 'the bootstrap is unchanged'}`,
      };
    case 'invalid':
      return {
        name, ok: false,
        detail: `the new version of ${t.launchTemplateId} (from version ${t.version}) would break ${t.violations.map((v) => `[${v.rule}] ${v.message}`).join('; ')}`,
        fix: `correct ${t.launchTemplateId} version ${t.version} (or point the group at a version that passes), then start the rollout again`,
      };
    case 'unrenderable':
      return { name, ok: false, detail: `${t.launchTemplateId} version ${t.version} cannot be rendered: ${t.reason}` };
  }
}

function judgeJoin(facts: PreflightFacts): PreflightCheck {
  const name = 'node-role-can-join';
  const role = facts.nodeRole;
  switch (role.status) {
    case 'skipped':
      return { name, ok: true, detail: `skipped: ${role.reason}` };
    case 'unknown':
      return { name, ok: false, detail: `the node role is unknown: ${role.reason}` };
    case 'no-instance-profile':
      return {
        name, ok: false,
        detail: `${role.launchTemplate} names no IAM instance profile: new nodes would have no identity to join the cluster with`,
        fix: `set IamInstanceProfile in ${role.launchTemplate} to the node role's instance profile`,
      };
    case 'profile-not-found':
      return {
        name, ok: false,
        detail: `instance profile ${role.instanceProfile}, named by the launch template, does not exist`,
        fix: `aws iam create-instance-profile --instance-profile-name ${role.instanceProfile} && aws iam add-role-to-instance-profile --instance-profile-name ${role.instanceProfile} --role-name <node role>`,
      };
    case 'profile-without-role':
      return {
        name, ok: false,
        detail: `instance profile ${role.instanceProfile} holds no role: new nodes would have no identity to join the cluster with`,
        fix: `aws iam add-role-to-instance-profile --instance-profile-name ${role.instanceProfile} --role-name <node role>`,
      };
    case 'resolved':
      return judgeResolvedJoin(facts.cluster, role);
  }
}

function judgeResolvedJoin(cluster: string, role: ResolvedNodeRole): PreflightCheck {
  const name = 'node-role-can-join';
  const windows = role.os === 'windows';
  const entryType = nodeEntryType(role.os);
  const createEntry = `aws eks create-access-entry --cluster-name ${cluster} --principal-arn ${role.roleArn} --type ${entryType}`;
  const readsEntries = readsAccessEntries(role.authenticationMode);
  const needed = nodeGroups(role.os);
  const canonical = roleArnWithoutPath(role.roleArn);
  const snippet = mapRolesSnippet(canonical, needed);
  const orEntry = (fix: string) => (readsEntries ? `${createEntry}\nor, in kube-system/aws-auth: ${fix}` : fix);
  const context = readsEntries ? `it has no access entry in cluster ${cluster}` : `cluster ${cluster} reads only aws-auth`;
  const access = judgeNodeRoleAccess(role);
  if (access.canJoin === true) {
    return access.via === 'access-entry'
      ? { name, ok: true, detail: `${role.roleArn} has an access entry of type ${access.entryType} in cluster ${cluster}` }
      : { name, ok: true, detail: `${role.roleArn} is mapped in kube-system/aws-auth to ${access.groups.join(', ')}` };
  }
  switch (access.problem) {
    case 'wrong-entry-type':
      return {
        name, ok: false,
        detail: `${role.roleArn} has an access entry of type ${access.entryType} in cluster ${cluster}; ${role.os} nodes need type ${entryType}${windows ? ' (its groups include eks:kube-proxy-windows)' : ''}`,
        // an access entry's type cannot be updated
        fix: `aws eks delete-access-entry --cluster-name ${cluster} --principal-arn ${role.roleArn} && ${createEntry}`,
      };
    case 'no-entry':
      return {
        name, ok: false,
        detail: `${role.roleArn} is not mapped: it has no access entry in cluster ${cluster}, whose authentication mode API does not read aws-auth`,
        fix: createEntry,
      };
    case 'aws-auth-unreadable':
      return {
        name, ok: false,
        detail: `${role.roleArn} cannot be checked: ${context}, and kube-system/aws-auth could not be read: ${access.reason}`,
        fix: readsEntries
          ? `${createEntry}\nor allow this service to get configmaps in kube-system (scripts/kubernetes/rbac.yaml)`
          : 'allow this service to get configmaps in kube-system (scripts/kubernetes/rbac.yaml)',
      };
    case 'aws-auth-malformed':
      return { name, ok: false, detail: `${role.roleArn} cannot be checked: ${context}, and the mapRoles of kube-system/aws-auth cannot be read: ${access.reason}`, fix: orEntry(`correct mapRoles, with an entry\n${snippet}`) };
    case 'aws-auth-absent':
      return { name, ok: false, detail: `${role.roleArn} is not mapped: ${context}, and there is no kube-system/aws-auth ConfigMap`, fix: orEntry(`create it with mapRoles:\n${snippet}`) };
    case 'not-mapped': {
      const withPath = access.mappedWithPath
        ? `; aws-auth names it ${access.mappedWithPath}, with its path, but the authenticator only matches ${canonical}`
        : '';
      return {
        name, ok: false,
        detail: `${role.roleArn} is not mapped: ${context}, and it is not in the mapRoles of kube-system/aws-auth${withPath}`,
        fix: orEntry(`kubectl edit -n kube-system configmap/aws-auth, and add under mapRoles:\n${snippet}`),
      };
    }
    case 'mapping-incomplete': {
      const { missing, username } = access;
      const problems = [
        missing.length ? `lacks the group${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` : undefined,
        username !== undefined ? `has the username ${username}, not ${NODE_USERNAME}` : undefined,
      ].filter((p): p is string => p !== undefined);
      return {
        name, ok: false,
        detail: `the aws-auth entry of ${canonical} ${problems.join(' and ')}${windows && missing.includes('eks:kube-proxy-windows') ? ' (Windows nodes need it for kube-proxy, hence DNS)' : ''}`,
        fix: orEntry(`kubectl edit -n kube-system configmap/aws-auth, and make its entry:\n${snippet}`),
      };
    }
  }
}

function judgePolicies(facts: PreflightFacts): PreflightCheck {
  const name = 'node-role-policies';
  const role = facts.nodeRole;
  if (role.status === 'skipped') return { name, ok: true, detail: `skipped: ${role.reason}` };
  if (role.status !== 'resolved') return { name, ok: false, detail: 'not checked: the node role is not known (see node-role-can-join)' };
  if (role.attachedPolicies === null) {
    return { name, ok: false, detail: `role ${role.roleArn}, in instance profile ${role.instanceProfile}, does not exist`, fix: `recreate the role, or point the instance profile at the node role` };
  }
  const attached = new Set(role.attachedPolicies.map(awsManagedPolicyName).filter((n): n is string => n !== undefined));
  const missing = NODE_ROLE_POLICIES.filter((p) => !p.accepted.some((a) => attached.has(a)));
  if (missing.length === 0) return { name, ok: true, detail: `role ${roleNameOf(role.roleArn)} has ${NODE_ROLE_POLICIES.map((p) => p.name).join(', ')}` };
  // AWS managed policies live in the role's own partition (arn:aws-cn:iam::aws:policy/…)
  const partition = partitionOfArn(role.roleArn)?.name ?? 'aws';
  return {
    name, ok: false,
    detail: `role ${roleNameOf(role.roleArn)} lacks ${missing.map((p) => p.name).join(', ')}: nodes need ${NODE_ROLE_POLICIES.map((p) => p.name).join(', ')}`,
    fix: missing.map((p) => `aws iam attach-role-policy --role-name ${roleNameOf(role.roleArn)} --policy-arn arn:${partition}:iam::aws:policy/${p.name}`).join('\n'),
  };
}

function judgeSubnets({ subnets, surge }: PreflightFacts): PreflightCheck {
  const name = 'subnet-addresses';
  if (subnets.status === 'unknown') return { name, ok: false, detail: `the group's subnets are unknown: ${subnets.reason}` };
  const gone = subnets.subnets.filter((s) => s.freeAddresses === null);
  const free = subnets.subnets.reduce((sum, s) => sum + (s.freeAddresses ?? 0), 0);
  const each = subnets.subnets.map((s) => `${s.subnetId}${s.availabilityZone ? ` (${s.availabilityZone})` : ''}: ${s.freeAddresses === null ? 'does not exist' : `${s.freeAddresses} free`}`).join(', ');
  if (gone.length) {
    return { name, ok: false, detail: `the group names subnets that do not exist: ${each}`, fix: `remove ${gone.map((s) => s.subnetId).join(', ')} from the group's subnets` };
  }
  if (free >= surge) return { name, ok: true, detail: `${free} free addresses for a surge of ${surge}: ${each}` };
  return {
    name, ok: false,
    detail: `a surge of ${surge} needs ${surge} free addresses; the group's subnets have ${free}: ${each}`,
    fix: 'free addresses in these subnets, add subnets to the group, or roll with a smaller max-unavailable or strategy minimal (terminate first)',
  };
}

/** The mapRoles entry a node role needs, as YAML to paste (the ARN without path, as the authenticator matches it). */
function mapRolesSnippet(roleArn: string, groups: readonly string[]): string {
  return [`- rolearn: ${roleArn}`, `  username: ${NODE_USERNAME}`, '  groups:', ...groups.map((g) => `    - ${g}`)].join('\n');
}

/** `arn:aws:iam::aws:policy/Name` → `Name`; undefined for customer managed policies (their content is unknown). */
function awsManagedPolicyName(arn: string): string | undefined {
  const match = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn);
  return match?.[1];
}

export { findRoleMapping, type RoleMapping, roleArnWithoutPath } from './aws-auth.js';

// ---- gathering the facts (reads only) ----

interface ClusterFacts {
  authenticationMode: AuthenticationMode;
  version: string;
}

interface GroupPlacement {
  subnetIds?: string[];
  /** the group's launch template as Auto Scaling names it (version may be $Latest / $Default) */
  launchTemplate?: { id: string; version: string };
  /** a managed node group's Kubernetes version (EKS's word for what it runs, unless its AMI is custom) */
  nodegroupVersion?: { version: string; custom: boolean };
  /** what decides whose images the group trusts: its tags, a managed group's amiType, its account */
  tags?: Record<string, string>;
  amiType?: string;
  accountId?: string;
  missing?: string;
}

/**
 * Every read the judge needs. Order matters only where one answer names the next question:
 * 1. cluster (authentication mode), target image, and the group (subnets, launch template);
 * 2. the launch template rendered with the target image, when the image is available;
 * 3. self-managed groups: instance profile → role → access entry or aws-auth → policies;
 * 4. the subnets' free addresses.
 */
export async function gatherPreflightFacts(input: PreflightInput, ports: PreflightPorts): Promise<PreflightFacts> {
  const [cluster, target, placement] = await Promise.all([
    describeCluster(ports.aws, input.cluster),
    ec2ImageSource(ports.aws).byId(input.target.imageId),
    describePlacement(input, ports),
  ]);
  const image = imageFact(input.target.imageId, target, now());
  const template = await startingVersion(input, placement, ports.aws);
  const provenance = await provenanceFact(placement, target, template, ports.aws);
  const launchTemplate = await templateFact(input, template, image, ports);
  const nodeRole = input.group.kind === 'managed'
    ? { status: 'skipped' as const, reason: 'EKS grants a managed node group\'s role access to the cluster itself' }
    : await nodeRoleFact(input, cluster, template, target, ports);
  const subnets = placement.subnetIds ? await subnetsFact(ports.aws, placement.subnetIds) : { status: 'unknown' as const, reason: placement.missing ?? 'the group names no subnets' };
  const kubernetesVersion = await kubernetesVersionFact(cluster.version, placement.nodegroupVersion, template?.current?.imageId, target, ports.aws);
  return { cluster: input.cluster, group: { kind: input.group.kind, name: input.group.name }, surge: input.surge, image, provenance, launchTemplate, nodeRole, subnets, kubernetesVersion };
}

export async function runPreflight(input: PreflightInput, ports: PreflightPorts): Promise<PreflightReport> {
  const report = judgePreflight(await gatherPreflightFacts(input, ports));
  ports.log(report.ok ? 'preflight passed' : 'preflight failed', {
    cluster: input.cluster,
    group: input.group.name,
    imageId: input.target.imageId,
    failed: report.checks.filter((c) => !c.ok).map((c) => c.name),
  });
  return report;
}

async function describeCluster(scope: AwsScope, name: string): Promise<ClusterFacts> {
  const cluster = await readCluster(scope, name);
  // clusters from before access entries report no mode: they read aws-auth only
  return { authenticationMode: (cluster.authenticationMode as AuthenticationMode | undefined) ?? 'CONFIG_MAP', version: cluster.version ?? '' };
}

async function describePlacement(input: PreflightInput, ports: PreflightPorts): Promise<GroupPlacement> {
  if (input.group.kind === 'managed') {
    const nodegroup = await findNodegroup(ports.aws, input.cluster, input.group.name);
    if (!nodegroup) return { missing: `node group ${input.group.name} does not exist in cluster ${input.cluster}` };
    const lt = nodegroup.launchTemplate;
    return {
      subnetIds: nodegroup.subnets,
      tags: nodegroup.tags,
      ...(nodegroup.amiType ? { amiType: nodegroup.amiType } : {}),
      ...(nodegroup.accountId ? { accountId: nodegroup.accountId } : {}),
      ...(lt?.id && lt.version ? { launchTemplate: { id: lt.id, version: lt.version } } : {}),
      ...(nodegroup.version ? { nodegroupVersion: { version: nodegroup.version, custom: nodegroup.amiType === 'CUSTOM' } } : {}),
    };
  }
  const name = input.group.autoScalingGroup ?? input.group.name;
  const group = await snapshotGroup(ports.aws, name);
  if (!group) return { missing: `Auto Scaling group ${name} does not exist` };
  return {
    subnetIds: group.subnetIds,
    tags: group.tags,
    ...(group.accountId ? { accountId: group.accountId } : {}),
    ...(group.launchTemplate ? { launchTemplate: group.launchTemplate } : {}),
  };
}

interface StartingVersion {
  ref: { id: string; version: number };
  /** `lt-… version 3` (or `$Latest` when it did not resolve), for messages */
  label: string;
  /** undefined when that version does not exist */
  current: TemplateVersionView | undefined;
}

/**
 * The version the rollout starts from: the input's, else the one the group launches from
 * ($Latest / $Default resolved); undefined when the group has no launch template.
 */
async function startingVersion(input: PreflightInput, placement: GroupPlacement, aws: AwsScope): Promise<StartingVersion | undefined> {
  const given = input.group.launchTemplate;
  if (given) return { ref: given, label: `${given.id} version ${given.version}`, current: await describeTemplateVersion(aws, given.id, String(given.version)) };
  if (!placement.launchTemplate) return undefined;
  const { id, version } = placement.launchTemplate;
  const current = await describeTemplateVersion(aws, id, version);
  return { ref: { id, version: current?.version ?? 0 }, label: `${id} version ${current?.version ?? version}`, current };
}

/**
 * Whose image the target is, against whom the group trusts — read again here from EC2, never
 * taken from the input: whoever started the execution said what the image is, EC2 says whose.
 * The group's current image is read only when it decides (a group with no selector and no EKS amiType).
 */
async function provenanceFact(placement: GroupPlacement, target: ImageView | undefined, template: StartingVersion | undefined, aws: AwsScope): Promise<ProvenanceFact> {
  if (placement.missing || !placement.tags) return { status: 'unknown', reason: placement.missing ?? 'the group could not be read' };
  if (!target?.ImageId) return { status: 'unknown', reason: 'the target image could not be read' };
  const { tags, amiType } = placement;
  const decides = !(amiType && amiType !== 'CUSTOM') && template?.current?.imageId;
  const currentImage = decides ? await ec2ImageSource(aws).byId(template!.current!.imageId!) : undefined;
  const source = imageSourceOf({ tags, amiType, currentImage });
  const verdict = judgeProvenance({ imageId: target.ImageId, name: target.Name, ...ownerOfImage(target) }, imageTrustFor(source, tags).trust, placement.accountId);
  return verdict.trusted ? { status: 'trusted', owner: verdict.owner, source } : { status: 'untrusted', owner: verdict.owner, source, reason: verdict.reason };
}

function imageFact(imageId: string, image: ImageView | undefined, readAt: Date): ImageFact {
  if (!image) return { imageId, found: false };
  const deprecation = image.DeprecationTime ? Date.parse(image.DeprecationTime) : Number.NaN;
  return {
    imageId,
    found: true,
    state: image.State ?? 'unknown',
    ...(image.Name ? { name: image.Name } : {}),
    ...(image.StateReason?.Message ? { stateReason: image.StateReason.Message } : {}),
    ...(deprecation <= readAt.getTime() ? { deprecatedAt: image.DeprecationTime! } : {}),
  };
}

async function templateFact(input: PreflightInput, template: StartingVersion | undefined, image: ImageFact, ports: PreflightPorts): Promise<TemplateFact> {
  if (!template) {
    return input.group.kind === 'managed'
      ? { status: 'not-needed', reason: 'the node group has no launch template: EKS picks the image by release version' }
      : { status: 'missing', reason: 'the group launches from no launch template (a launch configuration?)' };
  }
  const { ref } = template;
  if (!template.current) return { status: 'missing', reason: `launch template ${template.label} does not exist` };
  if (!image.found || image.state !== 'available') return { status: 'not-checked', reason: `the target image ${image.imageId} is not available` };
  try {
    const rendered = await renderLaunchTemplateVersion({ cluster: input.cluster, group: { kind: input.group.kind, name: input.group.name, launchTemplate: ref }, target: input.target }, ports);
    if (rendered.launchTemplateId === null) return { status: 'not-needed', reason: rendered.reason };
    return rendered.violations.length
      ? { status: 'invalid', launchTemplateId: ref.id, version: ref.version, violations: rendered.violations }
      : { status: 'valid', launchTemplateId: ref.id, version: ref.version, family: rendered.family, changes: rendered.changes };
  } catch (error) {
    // the user data could not even be rendered (unreadable in its family's format)
    if (error instanceof LaunchTemplateValidationError) return { status: 'invalid', launchTemplateId: ref.id, version: ref.version, violations: [...error.violations] };
    // e.g. an image whose family cannot be told, so neither can its bootstrap
    if (error instanceof ConfigurationError) return { status: 'unrenderable', launchTemplateId: ref.id, version: ref.version, reason: error.message };
    throw error;
  }
}

async function nodeRoleFact(
  input: PreflightInput,
  cluster: ClusterFacts,
  template: StartingVersion | undefined,
  target: ImageView | undefined,
  ports: PreflightPorts,
): Promise<NodeRoleFact> {
  if (!template) return { status: 'unknown', reason: 'the group has no launch template to name an instance profile' };
  const { current } = template;
  if (!current) return { status: 'unknown', reason: `launch template ${template.label} does not exist` };
  const profileName = instanceProfileNameOf(current.data.IamInstanceProfile);
  if (!profileName) return { status: 'no-instance-profile', launchTemplate: template.label };
  const profile = await describeInstanceProfile(ports.aws, profileName);
  if (!profile) return { status: 'profile-not-found', instanceProfile: profileName };
  const roleArn = profile.roleArns[0];
  if (!roleArn) return { status: 'profile-without-role', instanceProfile: profileName };

  // the new nodes run the target image; when it cannot be read, the current one tells
  const image = target ?? (current.imageId ? await ec2ImageSource(ports.aws).byId(current.imageId) : undefined);
  const os = image && (image.Platform?.toLowerCase() === 'windows' || identifyImage(image)?.family === 'windows') ? 'windows' : 'linux';
  const mode = cluster.authenticationMode;
  const accessEntry = readsAccessEntries(mode) ? await describeAccessEntry(ports.aws, input.cluster, roleArn) : undefined;
  const awsAuth = readsAwsAuth(mode, accessEntry) ? await readAwsAuth(() => ports.kube.core(input.cluster), input.cluster, roleArn, readYaml) : undefined;
  const attachedPolicies = (await listAttachedPolicyArns(ports.aws, roleNameOf(roleArn))) ?? null;
  return {
    status: 'resolved',
    instanceProfile: profileName,
    roleArn,
    os,
    authenticationMode: mode,
    ...(accessEntry !== undefined ? { accessEntry } : {}),
    ...(awsAuth ? { awsAuth } : {}),
    attachedPolicies,
  };
}

async function subnetsFact(aws: AwsScope, subnetIds: readonly string[]): Promise<SubnetsFact> {
  if (subnetIds.length === 0) return { status: 'unknown', reason: 'the group names no subnets' };
  // a filter, not SubnetIds: a subnet that is gone is then missing from the answer, not an error
  const found = new Map((await describeSubnets(aws, subnetIds, 'byFilter')).map((s) => [s.subnetId, s]));
  return {
    status: 'read',
    subnets: subnetIds.map((id) => {
      const s = found.get(id);
      return { subnetId: id, ...(s?.availabilityZone ? { availabilityZone: s.availabilityZone } : {}), freeAddresses: s ? s.freeAddresses : null };
    }),
  };
}
