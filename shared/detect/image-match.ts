import type { ImageView } from '../aws/images.js';
import type { Place } from '../aws/places.js';
import { judgeProvenance } from '../ami/image-provenance.js';
import { readAmiPolicy } from '../ami/resolve-target.js';
import { readNodeGroupConfig } from '../config/node-group-config.js';

/**
 * Which node groups a newly available image could be the target of (pure): what an `EC2 AMI
 * State Change` or an Image Builder event is screened with before any detection runs. "Could":
 * a match only says detection has something to look at — detection then resolves the group's
 * target as always (Kubernetes minor, channel, soak, deprecation) and may leave it current.
 *
 * A group could take the image when it is opted in (`rollout` is not `off`) and either
 * - it is pinned to this very image (`channel=pinned=ami-…`), or
 * - it has a custom image selector (`ami-name-prefix`, `ami-tag-<key>`) and the image fits it:
 *   the owner its `ami-owners` trusts (default `self`: the group's account), the name prefix,
 *   every tag.
 * A group without a selector follows an EKS-optimized channel: its images are Amazon's,
 * published through SSM public parameters, which raise no event in this account (see
 * ../../README.md "AMI detection"); the scheduled detection follows them, so an account's
 * own AMI events never start a detection for it.
 */
export interface SelectorGroup {
  /** the member place it lives in; absent: the hub's own */
  place?: Place;
  cluster: string;
  kind: 'managed' | 'self-managed';
  name: string;
  /** what `self` means in its `ami-owners` */
  accountId?: string;
  tags: Readonly<Record<string, string>>;
}

export type GroupVerdict = { cluster: string; group: string; matches: boolean; reason: string };

export function imageSummary(image: ImageView): string {
  return `${image.ImageId}${image.Name ? ` (${image.Name})` : ''}`;
}

export function couldTarget(image: ImageView, group: SelectorGroup): GroupVerdict {
  const verdict = (matches: boolean, reason: string): GroupVerdict => ({ cluster: group.cluster, group: group.name, matches, reason });
  if (readNodeGroupConfig(group.tags).policy.rollout === 'off') return verdict(false, 'rollouts are off for this group');
  const { channel, selector } = readAmiPolicy(group.tags);
  if (channel.kind === 'pinned' && channel.imageId !== undefined) {
    return channel.imageId === image.ImageId ? verdict(true, `pinned to ${image.ImageId}`) : verdict(false, `pinned to another image (${channel.imageId})`);
  }
  if (!selector) return verdict(false, 'no custom image selector: its images come from the EKS-optimized channel (SSM public parameters), which the scheduled detection follows');
  const owner = judgeProvenance(
    { imageId: image.ImageId ?? '', name: image.Name, ownerId: image.OwnerId, ownerAlias: image.ImageOwnerAlias },
    { kind: 'owners', owners: selector.owners ?? ['self'] },
    group.accountId,
  );
  if (!owner.trusted) return verdict(false, owner.reason);
  if (selector.namePrefix !== undefined && !(image.Name ?? '').startsWith(selector.namePrefix)) return verdict(false, `name does not start with ${selector.namePrefix}`);
  const tags = new Map((image.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  const missing = Object.entries(selector.tags ?? {}).filter(([key, value]) => tags.get(key) !== value);
  if (missing.length > 0) return verdict(false, `lacks tag ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  const parts = [`owner ${owner.owner}`, ...(selector.namePrefix !== undefined ? [`name prefix ${selector.namePrefix}`] : []), ...Object.entries(selector.tags ?? {}).map(([k, v]) => `tag ${k}=${v}`)];
  return verdict(true, `its selector matches (${parts.join(', ')})`);
}

/**
 * Every group any of the images could be the target of, once each (a member's with its place:
 * `accountId`, `region`), and why each other group is left out.
 */
export function screenImages(images: readonly ImageView[], groups: readonly SelectorGroup[]): { matched: { accountId?: string; region?: string; cluster: string; group: string }[]; verdicts: GroupVerdict[] } {
  const matched: { accountId?: string; region?: string; cluster: string; group: string }[] = [];
  const verdicts = groups.map((group) => {
    const all = images.map((image) => couldTarget(image, group));
    const verdict = all.find((v) => v.matches) ?? all[0] ?? { cluster: group.cluster, group: group.name, matches: false, reason: 'no image' };
    if (verdict.matches) matched.push({ ...(group.place ? { accountId: group.place.accountId, region: group.place.region } : {}), cluster: verdict.cluster, group: verdict.group });
    return verdict;
  });
  return { matched, verdicts };
}
