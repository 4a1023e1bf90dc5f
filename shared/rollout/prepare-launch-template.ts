import type { AwsScope } from '../aws/clients.js';
import { identifyImage } from '../ami/ami-family.js';
import { describeListedImage } from '../aws/images.js';
import { describeInstanceType } from '../aws/instance-types.js';
import {
  deleteTemplateVersions,
  describeTemplateVersion,
  ensureTemplateVersion,
  OUR_VERSION_DESCRIPTION,
  planPrune,
  recentTemplateVersions,
  type TemplateData,
  type TemplateTagSpecification,
} from '../aws/launch-template-versions.js';
import { describeClusterConnection, type KubeClients } from '../kube/client.js';
import { readCniSettings, type CniReading } from '../kube/cni-settings.js';
import { type BootstrapChange, diffBootstrapSettings, readBootstrapSettings } from '../launch-templates/bootstrap-settings.js';
import { instanceTypeFacts, maxPodsFor } from '../launch-templates/max-pods.js';
import { withOwnershipTags } from '../launch-templates/tag-specifications.js';
import { renderUserData } from '../launch-templates/user-data.js';
import type { NodeImageFamily } from '../launch-templates/types.js';
import { validateLaunchTemplate } from '../launch-templates/validate.js';
import { readGroup } from './read-group.js';
import { readRolloutPolicy } from './rollout-policy.js';
import { ConfigurationError, LaunchTemplateValidationError, type LaunchTemplateViolation } from '../errors.js';

export interface PrepareInput {
  cluster: string;
  group: { kind: 'managed' | 'self-managed'; name: string; autoScalingGroup?: string | undefined; launchTemplate?: { id: string; version: number } };
  target: { imageId: string; imageName?: string; release?: string };
}

export type PrepareResult =
  | { launchTemplateId: string; version: number; created: boolean; pruned: number[]; family: string; maxPods?: number; changes: BootstrapChange[] }
  | { launchTemplateId: null; reason: string };

export interface PreparePorts {
  aws: AwsScope;
  /** the group's tags (`max-pods`) */
  /** the VPC CNI's settings (aws-node DaemonSet) decide max pods */
  kube: Pick<KubeClients, 'apps'>;
  log: (message: string, attributes?: Record<string, unknown>) => void;
}

/** versions kept besides the default and those in use */
const KEEP_VERSIONS = 20;

/**
 * Said in a version's description when its max pods is the user's (kept from the version it
 * came from): without it, a version of ours holds a max pods we chose, recomputed next time.
 */
const USER_MAX_PODS_NOTE = "; max-pods: the user's";

/** The launch template version a rollout would create, before anything is written. */
export type RenderedTemplateVersion =
  | { launchTemplateId: null; reason: string }
  | {
      launchTemplateId: string;
      sourceVersion: number;
      family: NodeImageFamily;
      /** the whole template data the new version would have (image, user data base64, tags) */
      data: TemplateData;
      userData: string;
      tagSpecifications: TemplateTagSpecification[];
      /** every EKS rule the would-be version breaks; empty when it is valid */
      violations: LaunchTemplateViolation[];
      /** the max pods computed for the instance type and the cluster's CNI (the user's or the tag's may win) */
      maxPods?: { computed: number; instanceType: string; cni: CniReading };
      /** whose max pods the version sets: the group's tag, the user's (kept), or ours (computed now, or before when nothing can be computed) */
      maxPodsSource?: 'tag' | 'user' | 'ours';
      /** every bootstrap setting that differs from the current version's: cluster facts, max pods, what was asked */
      changes: BootstrapChange[];
    };

/**
 * Reads what the new version depends on and renders it, writing nothing (the preflight uses
 * it to validate before a rollout touches anything):
 * 1. a managed group without a launch template image (EKS picks the AMI by release) needs none;
 * 2. read the current version, the target image (its family), the cluster (endpoint, CA,
 *    service CIDR), the instance type, the VPC CNI's settings and the group's `max-pods` tag
 *    (max pods);
 * 3. render the user data: a full bootstrap for the family — a self-managed group, or a custom
 *    AMI on a managed group, gets nothing merged by EKS — keeping the user's own parts;
 *    ownership tags on instances and volumes;
 * 4. validate against EKS's rules (violations are returned, each naming its rule), and list
 *    the bootstrap settings that change (the preview shows them).
 * A missing version or an image of unknown family is a ConfigurationError.
 */
export async function renderLaunchTemplateVersion(input: PrepareInput, ports: Pick<PreparePorts, 'aws' | 'kube'>): Promise<RenderedTemplateVersion> {
  const lt = input.group.launchTemplate;
  if (!lt) return { launchTemplateId: null, reason: 'the node group has no launch template: EKS updates it by release version' };
  const current = await describeTemplateVersion(ports.aws, lt.id, String(lt.version));
  if (!current) throw new ConfigurationError(`launch template ${lt.id} version ${lt.version} does not exist`);
  if (input.group.kind === 'managed' && !current.imageId) {
    return { launchTemplateId: null, reason: 'the launch template names no image: EKS chooses it by release version' };
  }

  const [image, cluster] = await Promise.all([describeListedImage(ports.aws, input.target.imageId), describeClusterConnection(ports.aws, input.cluster)]);
  const identity = image ? identifyImage(image) : undefined;
  if (!identity) throw new ConfigurationError(`cannot tell the AMI family of ${input.target.imageId}: tag it eks-node-lifecycle/ami-family`);

  const instanceType = current.data.InstanceType;
  // a malformed tag is reported by the rollout's policy read (Rollout Planned); here it is simply absent
  const { maxPods: maxPodsOverride } = readRolloutPolicy((await readGroup(input, ports)).tags).policy;
  const [typeFacts, cni] = instanceType
    ? await Promise.all([
        describeInstanceType(ports.aws, instanceType),
        readCniSettings(ports.kube, input.cluster),
      ])
    : [undefined, undefined];
  const pods = typeFacts && cni ? { computed: maxPodsFor(identity.family, instanceTypeFacts(typeFacts), cni), instanceType: instanceType!, cni } : undefined;

  const clusterFacts = { name: cluster.name, endpoint: cluster.endpoint, certificateAuthority: cluster.caData, serviceIpv4Cidr: cluster.serviceIpv4Cidr ?? '172.20.0.0/16' };
  const existing = current.userData ? Buffer.from(current.userData, 'base64').toString('utf8') : undefined;
  // a version we created holds our max pods, not the user's, unless it says it kept theirs
  const existingMaxPodsIsOurs = OUR_VERSION_DESCRIPTION.test(current.description ?? '') && !(current.description ?? '').includes(USER_MAX_PODS_NOTE);
  const existingMaxPods = existing !== undefined ? readBootstrapMaxPods(identity.family, existing) : undefined;
  const maxPodsSource = maxPodsOverride !== undefined ? 'tag' : existingMaxPods !== undefined && !existingMaxPodsIsOurs ? 'user' : pods || existingMaxPods !== undefined ? 'ours' : undefined;
  const userDataDecoded = renderUserData({
    family: identity.family,
    mode: 'full-bootstrap',
    cluster: clusterFacts,
    ...(pods !== undefined ? { maxPods: pods.computed } : {}),
    ...(maxPodsOverride !== undefined ? { maxPodsOverride } : {}),
    existingMaxPodsIsOurs,
    ...(existing !== undefined ? { existing } : {}),
  });
  const userData = Buffer.from(userDataDecoded, 'utf8').toString('base64');
  const tagSpecifications = withOwnershipTags(current.data.TagSpecifications ?? [], cluster.name);
  const data = { ...current.data, ImageId: input.target.imageId, UserData: userData, TagSpecifications: tagSpecifications };
  const violations = validateLaunchTemplate({ data, managedNodeGroup: input.group.kind === 'managed', family: identity.family, cluster: clusterFacts, userDataDecoded });
  const changes = violations.some((v) => v.rule === 'user-data-unparseable')
    ? []
    : diffBootstrapSettings(readBootstrapSettings(identity.family, existing ?? ''), readBootstrapSettings(identity.family, userDataDecoded));
  return {
    launchTemplateId: lt.id,
    sourceVersion: lt.version,
    family: identity.family,
    data,
    userData,
    tagSpecifications,
    violations,
    ...(pods ? { maxPods: pods } : {}),
    ...(maxPodsSource ? { maxPodsSource } : {}),
    changes,
  };
}

/**
 * The launch template version a group will roll onto:
 * 1. render and validate it (`renderLaunchTemplateVersion`): no template needed, or a
 *    violation fails the step here, before any write;
 * 2. create the version from the current one (SourceVersion), or reuse an identical one;
 * 3. prune versions beyond the newest KEEP_VERSIONS, never the default or the one in use.
 */
export async function prepareLaunchTemplate(input: PrepareInput, ports: PreparePorts): Promise<PrepareResult> {
  const rendered = await renderLaunchTemplateVersion(input, ports);
  if (rendered.launchTemplateId === null) return rendered;
  if (rendered.violations.length) throw new LaunchTemplateValidationError(rendered.violations);
  const lt = { id: rendered.launchTemplateId, version: rendered.sourceVersion };

  const versions = await recentTemplateVersions(ports.aws, lt.id);
  const { version, created } = await ensureTemplateVersion(
    ports.aws,
    {
      launchTemplateId: lt.id,
      sourceVersion: lt.version,
      imageId: input.target.imageId,
      userData: rendered.userData,
      description: `eks-node-lifecycle: ${input.target.imageName ?? input.target.imageId}${input.target.release ? ` (${input.target.release})` : ''}${rendered.maxPodsSource === 'user' ? USER_MAX_PODS_NOTE : ''}`,
      extra: { TagSpecifications: rendered.tagSpecifications },
    },
    versions,
  );
  const all = created ? [{ version, isDefault: false }, ...versions] : versions;
  const pruned = planPrune(all, new Set([lt.version, version]), KEEP_VERSIONS);
  await deleteTemplateVersions(ports.aws, lt.id, pruned);
  const maxPodsSet = readBootstrapMaxPods(rendered.family, Buffer.from(rendered.userData, 'base64').toString('utf8'));
  ports.log('launch template version ready', { launchTemplateId: lt.id, version, created, from: lt.version, imageId: input.target.imageId, pruned: pruned.length, maxPods: maxPodsSet, changes: rendered.changes });
  return { launchTemplateId: lt.id, version, created, pruned, family: rendered.family, ...(maxPodsSet !== undefined ? { maxPods: maxPodsSet } : {}), changes: rendered.changes };
}

/** The max pods a rendered user data sets, whichever family's setting holds it. */
function readBootstrapMaxPods(family: NodeImageFamily, userDataDecoded: string): number | undefined {
  const settings = readBootstrapSettings(family, userDataDecoded);
  const raw = settings['kubelet --max-pods'] ?? settings['spec.kubelet.config.maxPods'] ?? settings['settings.kubernetes.max-pods'];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}
