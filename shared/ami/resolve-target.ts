import type { ImageFilter, ImageView } from '../aws/images.js';
import { parseDurationSeconds } from '../config/duration.js';
import { POLICY_TAG_PREFIX } from '../config/node-group-policy.js';
import {
  compareReleases,
  identifyImage,
  identityFromAmiType,
  identityFromImageName,
  imageNamePattern,
  isEksOptimizedImage,
  parseRelease,
  sameIdentity,
  type AmiIdentity,
  type ParsedRelease,
} from './ami-family.js';
import type { ImageSource } from './describe-images.js';
import { imageTrustFor, judgeProvenance, OWNERS_TAG, ownerOfImage, readAmiOwners } from './image-provenance.js';
import { parameterNamesFor } from './ssm-parameters.js';
import { IMAGE_ID } from '../ids.js';

/**
 * Which image a node group should run.
 *
 * Decide first, act second: `chooseImage` is a pure decision over candidates fetched
 * beforehand; `resolveTarget` fetches them (SSM public parameters, DescribeImages) and
 * calls it. Nothing here changes anything in the account.
 *
 * Policy tags (prefix `eks-node-lifecycle/`, on the node group or its Auto Scaling group):
 *
 * | tag | values | default |
 * |---|---|---|
 * | channel | `recommended`; `soak=7d` (newest release at least that old); `pinned=1.31.3-20241115` (a release) or `pinned=ami-0123…` (an image) | recommended |
 * | ami-name-prefix | custom images: the start of their name (`my-eks-al2023-`) | — |
 * | ami-tag-`<key>` | custom images: they carry tag `<key>` with this value (`ami-tag-team` = `platform`) | — |
 * | ami-owners | custom images: who owns them and so who the group trusts, separated by commas or spaces (`self 123456789012`; EKS tag values allow no commas); see image-provenance.ts | self |
 *
 * A custom selector exists when `ami-name-prefix` or at least one `ami-tag-*` is set; it
 * makes the group a custom-AMI group whatever its current image is. `ami-owners` alone
 * selects nothing (it would match every image of those accounts) and is reported.
 * A malformed value never stops resolution: the default applies and the problem is reported.
 *
 * Whatever the channel, the chosen image must come from an owner the group trusts (Amazon for
 * EKS-optimized lines; the `ami-owners` for custom images): an image pinned by id is looked up
 * by id alone, so its owner is checked here rather than trusted (see image-provenance.ts).
 */
export type ReleaseChannel =
  | { kind: 'recommended' }
  | { kind: 'soak'; minAgeSeconds: number }
  | { kind: 'pinned'; release?: string; imageId?: string };

export interface CustomSelector {
  /** The image name starts with it (DescribeImages `name` filter `<prefix>*`). */
  namePrefix?: string;
  /** Every tag must be on the image with this value (`tag:<key>` filters). */
  tags?: Record<string, string>;
  /** DescribeImages `Owners`; default `['self']`. */
  owners?: string[];
}

export const CHANNEL_TAG = `${POLICY_TAG_PREFIX}channel`;
export const NAME_PREFIX_TAG = `${POLICY_TAG_PREFIX}ami-name-prefix`;
export const IMAGE_TAG_PREFIX = `${POLICY_TAG_PREFIX}ami-tag-`;
export { OWNERS_TAG };

const DEFAULT_CHANNEL: ReleaseChannel = { kind: 'recommended' };

/** `recommended` | `soak=7d` | `pinned=1.31.3-20241115` | `pinned=ami-0123…`. Pure. */
export function parseChannel(text: string | undefined): { channel: ReleaseChannel; problems: string[] } {
  if (text === undefined) return { channel: DEFAULT_CHANNEL, problems: [] };
  const raw = text.trim();
  const fail = (why: string) => ({ channel: DEFAULT_CHANNEL, problems: [`${CHANNEL_TAG}=${raw} ${why}; using recommended`] });
  if (raw === 'recommended') return { channel: { kind: 'recommended' }, problems: [] };
  const [kind, value = ''] = splitOnce(raw, '=');
  if (kind === 'soak') {
    const seconds = parseDurationSeconds(value);
    if (seconds === undefined || seconds <= 0) return fail('needs a duration like soak=7d or soak=36h');
    return { channel: { kind: 'soak', minAgeSeconds: seconds }, problems: [] };
  }
  if (kind === 'pinned') {
    const pin = value.trim();
    if (IMAGE_ID.test(pin)) return { channel: { kind: 'pinned', imageId: pin }, problems: [] };
    if (pin.startsWith('ami-')) return fail('is not an image id like ami-0123456789abcdef0');
    if (!/^[A-Za-z0-9][A-Za-z0-9._:/+@-]*$/.test(pin)) return fail('needs a release or image id, like pinned=1.31.3-20241115');
    return { channel: { kind: 'pinned', release: pin }, problems: [] };
  }
  return fail('is not one of recommended, soak=<duration>, pinned=<release|ami-id>');
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text.trim(), undefined] : [text.slice(0, at).trim(), text.slice(at + 1)];
}

/** The channel and the custom selector from a group's tags; `rejected`: the keys given but not used (see node-group-policy.ts). Pure. */
export function readAmiPolicy(tags: Readonly<Record<string, string>>): { channel: ReleaseChannel; selector?: CustomSelector; problems: string[]; rejected: string[] } {
  const { channel, problems } = parseChannel(tags[CHANNEL_TAG]);
  const rejected: string[] = problems.length > 0 ? ['channel'] : [];
  const selector: CustomSelector = {};
  const namePrefix = tags[NAME_PREFIX_TAG]?.trim();
  if (namePrefix) selector.namePrefix = namePrefix;
  else if (namePrefix === '') {
    problems.push(`${NAME_PREFIX_TAG} is empty; ignored`);
    rejected.push('ami-name-prefix');
  }
  for (const [key, value] of Object.entries(tags)) {
    if (!key.startsWith(IMAGE_TAG_PREFIX)) continue;
    const imageTag = key.slice(IMAGE_TAG_PREFIX.length);
    if (!imageTag) {
      problems.push(`${key} names no image tag; ignored`);
      rejected.push(key.slice(POLICY_TAG_PREFIX.length));
      continue;
    }
    (selector.tags ??= {})[imageTag] = value;
  }
  const owners = readAmiOwners(tags);
  problems.push(...owners.problems);
  if (owners.problems.length > 0) rejected.push('ami-owners');
  if (owners.given && owners.problems.length === 0) selector.owners = [...owners.owners];
  if (selector.namePrefix === undefined && selector.tags === undefined) {
    if (selector.owners) {
      problems.push(`${OWNERS_TAG} needs ${NAME_PREFIX_TAG} or ${IMAGE_TAG_PREFIX}<key> to select images; ignored`);
      rejected.push('ami-owners');
    }
    return { channel, problems, rejected };
  }
  return { channel, selector, problems, rejected };
}

/**
 * Where a group's images come from, for whom it trusts (see image-provenance.ts): its custom
 * selector makes it custom; else an EKS `amiType` (not CUSTOM), or a current image AWS
 * publishes for EKS, makes it EKS-optimized; anything else runs custom images. Pure.
 */
export function imageSourceOf(group: { tags: Readonly<Record<string, string>>; amiType?: string | undefined; currentImage?: ImageView | undefined }): 'eks-optimized' | 'custom' {
  if (readAmiPolicy(group.tags).selector) return 'custom';
  if (group.amiType && group.amiType !== 'CUSTOM') return 'eks-optimized';
  return group.currentImage && isEksOptimizedImage(group.currentImage) ? 'eks-optimized' : 'custom';
}

/** DescribeImages owners and filters for a selector (`state` is added by the adapter). */
export function selectorQuery(selector: CustomSelector): { owners: string[]; filters: ImageFilter[] } {
  const filters: ImageFilter[] = [];
  // EC2 filter values treat * and ? as wildcards; a prefix is literal
  if (selector.namePrefix) filters.push({ Name: 'name', Values: [`${selector.namePrefix.replace(/[*?\\]/g, '\\$&')}*`] });
  for (const [key, value] of Object.entries(selector.tags ?? {})) filters.push({ Name: `tag:${key}`, Values: [value] });
  return { owners: selector.owners?.length ? [...selector.owners] : ['self'], filters };
}

// ---- the decision ----

export interface ImageCandidate {
  imageId: string;
  name: string;
  /** ISO 8601 */
  creationDate: string;
  /** EC2 image state: only `available` is ever chosen */
  state: string;
  /** ISO 8601; from then on the image is deprecated and never chosen */
  deprecationTime?: string;
  /** What the decision reports as the release */
  release: string;
  /** For EKS-optimized images: the release, comparable (pins match on it) */
  parsed?: ParsedRelease;
  /** The image's owner, as EC2 reports it: what provenance is judged on */
  ownerId?: string;
  ownerAlias?: string;
}

export type TargetDecision =
  | { decision: 'target'; imageId: string; imageName: string; release: string; reason: string; ownerId?: string; ownerAlias?: string }
  | { decision: 'none'; reason: string };

/** Why a candidate may not be chosen, or undefined when it may. */
export function unusableBecause(candidate: ImageCandidate, now: Date): string | undefined {
  if (candidate.state !== 'available') return `is ${candidate.state}`;
  if (candidate.deprecationTime !== undefined) {
    const at = Date.parse(candidate.deprecationTime);
    // an unreadable deprecation time fails closed
    if (Number.isNaN(at) || at <= now.getTime()) return `is deprecated since ${candidate.deprecationTime}`;
  }
  return undefined;
}

function created(candidate: ImageCandidate): number {
  const at = Date.parse(candidate.creationDate);
  return Number.isNaN(at) ? Number.NEGATIVE_INFINITY : at;
}

/** Newest first: CreationDate, then release, then image id (for a stable order). */
function newestFirst(a: ImageCandidate, b: ImageCandidate): number {
  const byDate = created(b) - created(a);
  if (byDate !== 0 && !Number.isNaN(byDate)) return byDate;
  if (a.parsed && b.parsed && a.parsed.family === b.parsed.family) {
    const byRelease = compareReleases(b.parsed, a.parsed);
    if (byRelease !== 0) return byRelease;
  }
  return a.imageId < b.imageId ? 1 : a.imageId > b.imageId ? -1 : 0;
}

function target(c: ImageCandidate, reason: string): TargetDecision {
  return { decision: 'target', imageId: c.imageId, imageName: c.name, release: c.release, reason, ...(c.ownerId ? { ownerId: c.ownerId } : {}), ...(c.ownerAlias ? { ownerAlias: c.ownerAlias } : {}) };
}

function matchesPin(c: ImageCandidate, pin: string): boolean {
  if (c.release === pin || c.name === pin) return true;
  if (!c.parsed) return false;
  const wanted = parseRelease(c.parsed.family, pin);
  return wanted !== undefined && compareReleases(wanted, c.parsed) === 0;
}

/**
 * Chooses the image a group should run among `candidates`. Pure.
 * - a deprecated image, or one not `available` (disabled, pending, failed), is never chosen;
 * - `recommended`: the recommended image (`recommendedImageId`, from SSM) when usable; when it
 *   was recalled, the newest usable image older than it; without a recommendation (custom
 *   images), the newest usable image;
 * - `soak`: the newest usable image at least `minAgeSeconds` old at `now`;
 * - `pinned`: that image, or the newest usable image of that release.
 */
export function chooseImage(
  candidates: readonly ImageCandidate[],
  channel: ReleaseChannel,
  now: Date,
  options: { recommendedImageId?: string } = {},
): TargetDecision {
  const usable = candidates.filter((c) => unusableBecause(c, now) === undefined).sort(newestFirst);
  switch (channel.kind) {
    case 'recommended': {
      const id = options.recommendedImageId;
      if (id === undefined) {
        const newest = usable[0];
        return newest ? target(newest, `newest available image ${newest.name}`) : { decision: 'none', reason: 'no available, non-deprecated image' };
      }
      const recommended = candidates.find((c) => c.imageId === id);
      const why = recommended ? unusableBecause(recommended, now) : 'unknown to EC2';
      if (recommended && why === undefined) return target(recommended, `recommended release ${recommended.release}`);
      // a recall: AWS deprecates or disables the image; never go forward past it
      const fallback = usable.find((c) => c.imageId !== id && (!recommended || created(c) < created(recommended)));
      return fallback
        ? target(fallback, `recommended image ${id} ${why} (recalled); falling back to the previous release ${fallback.release}`)
        : { decision: 'none', reason: `recommended image ${id} ${why} (recalled) and no earlier image is available` };
    }
    case 'soak': {
      const oldEnough = usable.find((c) => now.getTime() - created(c) >= channel.minAgeSeconds * 1000);
      if (oldEnough) return target(oldEnough, `newest release soaked for at least ${formatAge(channel.minAgeSeconds)}: ${oldEnough.release}`);
      return {
        decision: 'none',
        reason: usable.length
          ? `no available image is ${formatAge(channel.minAgeSeconds)} old yet (newest: ${usable[0]!.name}, created ${usable[0]!.creationDate})`
          : 'no available, non-deprecated image',
      };
    }
    case 'pinned': {
      if (channel.imageId !== undefined) {
        const pinned = candidates.find((c) => c.imageId === channel.imageId);
        if (!pinned) return { decision: 'none', reason: `pinned image ${channel.imageId} does not exist` };
        const why = unusableBecause(pinned, now);
        return why === undefined ? target(pinned, `pinned image ${pinned.imageId}`) : { decision: 'none', reason: `pinned image ${pinned.imageId} ${why}` };
      }
      const pin = channel.release ?? '';
      const matching = candidates.filter((c) => matchesPin(c, pin));
      const chosen = usable.find((c) => matchesPin(c, pin));
      if (chosen) return target(chosen, `pinned release ${pin}`);
      return {
        decision: 'none',
        reason: matching.length
          ? `pinned release ${pin} ${unusableBecause(matching[0]!, now)}`
          : `pinned release ${pin} matches no image`,
      };
    }
  }
}

function formatAge(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

// ---- the adapter ----

export interface ParameterSource {
  get(names: readonly string[]): Promise<Map<string, string | undefined>>;
}

/** `SsmParameterCache` and `ec2ImageSource` are the AWS adapters. */
export interface AmiPorts {
  parameters: ParameterSource;
  images: ImageSource;
}

export interface TargetGroup {
  /**
   * Kubernetes minor the target is for: the group's own, or the next one toward the control
   * plane's when its kubernetes-version policy follows it (see kubernetes-version.ts).
   */
  kubernetesVersion: string;
  /** A managed node group's `amiType`; absent for self-managed groups. */
  amiType?: string;
  /** The image the group's launch template names now (CUSTOM and self-managed groups). */
  currentImageId?: string;
  /** The group's tags (policy). */
  tags: Readonly<Record<string, string>>;
  /** The account the group lives in: what `self` means in `ami-owners` (unknown: `self` trusts nothing). */
  accountId?: string;
}

export type ResolvedTarget = (
  | TargetDecision
  /** the channel chose an image whose owner the group does not trust: refused, whoever asked */
  | { decision: 'untrusted'; imageId: string; imageName: string; owner: string; reason: string }
) & {
  /** Where the target comes from: AWS's EKS-optimized line, the group's custom selector, or nowhere. */
  source: 'eks-optimized' | 'custom' | 'unknown';
  identity?: AmiIdentity;
  problems: string[];
};

/** A DescribeImages item as a candidate; `identity` set for EKS-optimized images. */
export function toCandidate(image: ImageView, identity?: AmiIdentity): ImageCandidate {
  const name = image.Name ?? '';
  const parsed = identity ? releaseFromImage(identity, image) : undefined;
  return {
    imageId: image.ImageId ?? '',
    name,
    creationDate: image.CreationDate ?? '',
    state: image.State ?? 'unknown',
    ...(image.DeprecationTime ? { deprecationTime: image.DeprecationTime } : {}),
    release: parsed?.text ?? customRelease(image),
    ...(parsed ? { parsed } : {}),
    ...ownerOfImage(image),
  };
}

/** The release an EKS-optimized image belongs to, from its description or name. */
function releaseFromImage(identity: AmiIdentity, image: ImageView): ParsedRelease {
  const name = image.Name ?? '';
  const fromDescription = /(\d+\.\d+\.\d+-\d{8})/.exec(image.Description ?? '')?.[1];
  const text =
    identity.family === 'al2' || identity.family === 'al2023'
      ? fromDescription ?? /-(v\d{8})$/.exec(name)?.[1]
      : identity.family === 'bottlerocket'
        ? /-v(\d+\.\d+\.\d+(?:-[0-9a-f]+)?)$/.exec(name)?.[1]
        : /-(\d+\.\d+-\d{4}\.\d{2}\.\d{2})$/.exec(name)?.[1];
  const parsed = text ? parseRelease(identity.family, text) : undefined;
  const fromName = parseRelease(identity.family, name);
  // a release without a Kubernetes version takes it from the name, so pins can match on it
  if (parsed && fromName && parsed.kubernetesVersion === undefined && fromName.kubernetesVersion) return { ...parsed, kubernetesVersion: fromName.kubernetesVersion };
  return parsed ?? fromName ?? { family: identity.family, text: name };
}

/**
 * A custom image's release: its `eks-node-lifecycle/release` tag, else the Image Builder
 * version in its `Ec2ImageBuilderArn` tag (`1.0.3/1`), else its name.
 */
function customRelease(image: ImageView): string {
  const tag = (key: string) => image.Tags?.find((t) => t.Key === key)?.Value;
  const builder = /:image\/[^/]+\/(.+)$/.exec(tag('Ec2ImageBuilderArn') ?? '')?.[1];
  return tag(`${POLICY_TAG_PREFIX}release`) ?? builder ?? image.Name ?? '';
}

/**
 * Resolves a group's target image:
 * 1. reads its channel and custom selector from its tags;
 * 2. works out what it runs: the selector makes it custom; else its `amiType`; else its
 *    current image, when that is an EKS-optimized image AWS publishes;
 * 3. fetches candidates: the SSM recommended image (DescribeImages on it, and on a recall the
 *    images of the same line) or, for soak and release pins, the images of the line
 *    (Owners amazon + name filter); custom groups search with their selector;
 * 4. decides with `chooseImage`, then fills in an EKS-optimized image's release version from SSM.
 */
export async function resolveTarget(ports: AmiPorts, group: TargetGroup, now: Date): Promise<ResolvedTarget> {
  return trustedOnly(await resolveAnyOwner(ports, group, now), group);
}

/**
 * 5. refuses a chosen image whose owner the group does not trust. The searches already ask
 * EC2 for the trusted owners only; an image named by id (a pin, `--ami ami-…`) is not.
 */
function trustedOnly(resolved: ResolvedTarget, group: TargetGroup): ResolvedTarget {
  if (resolved.decision !== 'target' || resolved.source === 'unknown') return resolved;
  const { trust, problems } = imageTrustFor(resolved.source, group.tags);
  const verdict = judgeProvenance({ imageId: resolved.imageId, name: resolved.imageName, ownerId: resolved.ownerId, ownerAlias: resolved.ownerAlias }, trust, group.accountId);
  if (verdict.trusted) return resolved;
  const extra = problems.filter((p) => !resolved.problems.includes(p));
  return { decision: 'untrusted', imageId: resolved.imageId, imageName: resolved.imageName, owner: verdict.owner, reason: verdict.reason, source: resolved.source, ...(resolved.identity ? { identity: resolved.identity } : {}), problems: [...resolved.problems, ...extra] };
}

async function resolveAnyOwner(ports: AmiPorts, group: TargetGroup, now: Date): Promise<ResolvedTarget> {
  const { channel, selector, problems } = readAmiPolicy(group.tags);
  const pinnedImage = channel.kind === 'pinned' && channel.imageId !== undefined ? channel.imageId : undefined;

  if (selector) {
    if (pinnedImage) return { ...chooseImage(await byId(ports, pinnedImage), channel, now), source: 'custom', problems };
    const { candidates, otherMinors } = await searchCustom(ports, selector, group.kubernetesVersion);
    const decision = chooseImage(candidates, channel, now);
    const skipped = otherMinors.length ? `; ${otherMinors.length} image(s) built for another Kubernetes minor than ${group.kubernetesVersion} left out (${otherMinors.slice(0, 3).join(', ')})` : '';
    return { ...decision, ...(decision.decision === 'none' ? { reason: `${decision.reason}${skipped}` } : {}), source: 'custom', problems };
  }

  const identity = await identify(ports, group);
  if (!identity) {
    const reason =
      group.amiType && group.amiType !== 'CUSTOM'
        ? `cannot tell which image line amiType ${group.amiType} on Kubernetes ${group.kubernetesVersion || '(no version)'} is`
        : group.amiType === 'CUSTOM' || group.currentImageId
          ? `the group runs a custom image; tag it with ${NAME_PREFIX_TAG} or ${IMAGE_TAG_PREFIX}<key> to say which images replace it`
          : 'the group names neither an amiType nor an image';
    return { decision: 'none', reason, source: group.amiType === 'CUSTOM' || group.currentImageId ? 'custom' : 'unknown', problems };
  }
  const eks = (decision: TargetDecision): ResolvedTarget => ({ ...decision, source: 'eks-optimized', identity, problems });

  if (pinnedImage) return eks(chooseImage(await byId(ports, pinnedImage), channel, now));

  const names = parameterNamesFor(identity);
  if (channel.kind === 'recommended') {
    const values = await ports.parameters.get(names.release ? [names.imageId, names.release] : [names.imageId]);
    const recommendedImageId = values.get(names.imageId);
    const recommendedRelease = names.release ? values.get(names.release) : undefined;
    if (recommendedImageId) {
      const image = await ports.images.byId(recommendedImageId);
      const first = image ? [toCandidate(image, identity)] : [];
      if (first[0] && unusableBecause(first[0], now) === undefined) {
        const decision = chooseImage(first, channel, now, { recommendedImageId });
        return eks(recommendedRelease && decision.decision === 'target' ? { ...decision, release: recommendedRelease } : decision);
      }
      const line = await searchLine(ports, identity);
      const candidates = [...first, ...line.filter((c) => c.imageId !== recommendedImageId)];
      return eks(await withReleaseVersion(ports, identity, chooseImage(candidates, channel, now, { recommendedImageId })));
    }
    const decision = await withReleaseVersion(ports, identity, chooseImage(await searchLine(ports, identity), channel, now));
    const missing = `SSM publishes no ${names.imageId}`;
    return eks(decision.decision === 'target' ? { ...decision, reason: `${missing}; ${decision.reason}` } : { decision: 'none', reason: `${missing} and ${decision.reason}` });
  }
  return eks(await withReleaseVersion(ports, identity, chooseImage(await searchLine(ports, identity), channel, now)));
}

async function identify(ports: AmiPorts, group: TargetGroup): Promise<AmiIdentity | undefined> {
  if (group.amiType && group.amiType !== 'CUSTOM') return identityFromAmiType(group.amiType, group.kubernetesVersion);
  if (!group.currentImageId) return undefined;
  const image = await ports.images.byId(group.currentImageId);
  if (!image || !isEksOptimizedImage(image)) return undefined;
  const identity = identityFromImageName(image.Name);
  // the minor the group's policy chose (pinned: the image's own; follow-control-plane: the next one)
  return identity ? { ...identity, kubernetesVersion: group.kubernetesVersion || identity.kubernetesVersion } : undefined;
}

async function byId(ports: AmiPorts, imageId: string): Promise<ImageCandidate[]> {
  const image = await ports.images.byId(imageId);
  return image ? [toCandidate(image, identityFromImageName(image.Name))] : [];
}

/**
 * The selector's images for the group's Kubernetes minor: an image that says it is built for
 * another minor (its name, or its `eks-node-lifecycle/kubernetes-version` tag) is left out, so
 * a custom AMI group changes minor only as its kubernetes-version policy says. Images that do
 * not say stay candidates.
 */
async function searchCustom(ports: AmiPorts, selector: CustomSelector, kubernetesVersion: string): Promise<{ candidates: ImageCandidate[]; otherMinors: string[] }> {
  const { owners, filters } = selectorQuery(selector);
  const images = await ports.images.search(owners, filters);
  const minorOf = (image: ImageView) => identifyImage(image)?.kubernetesVersion;
  const fits = (image: ImageView) => !kubernetesVersion || minorOf(image) === undefined || minorOf(image) === kubernetesVersion;
  return {
    candidates: images.filter(fits).map((image) => toCandidate(image)),
    otherMinors: images.filter((image) => !fits(image)).map((image) => `${image.ImageId} (${minorOf(image)})`),
  };
}

/** Every release of an identity's line that AWS still lists (EC2 hides deprecated public images). */
async function searchLine(ports: AmiPorts, identity: AmiIdentity): Promise<ImageCandidate[]> {
  const images = await ports.images.search(['amazon'], [{ Name: 'name', Values: [imageNamePattern(identity)] }]);
  return images
    .filter((image) => {
      const found = identityFromImageName(image.Name);
      return found !== undefined && sameIdentity(found, identity);
    })
    .map((image) => toCandidate(image, identity));
}

/**
 * AL2 and AL2023 images chosen other than by recommendation: the release version EKS
 * expects (`1.31.3-20241115`) is in SSM under the release's own folder.
 */
async function withReleaseVersion(ports: AmiPorts, identity: AmiIdentity, decision: TargetDecision): Promise<TargetDecision> {
  const folder = parameterNamesFor(identity).releaseFolder;
  if (decision.decision !== 'target' || !folder || /^\d+\.\d+\.\d+-\d{8}$/.test(decision.release)) return decision;
  const name = `${folder}/${decision.imageName}/release_version`;
  const release = (await ports.parameters.get([name])).get(name);
  return release ? { ...decision, release } : decision;
}
