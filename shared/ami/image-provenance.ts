import type { ImageView } from '../aws/images.js';
import { POLICY_TAG_PREFIX } from '../config/node-group-policy.js';

/**
 * Whose images a node group may run. Anyone can make an AMI public and name it
 * `amazon-eks-node-…`; a name, a description or a release parsed from them proves nothing.
 * What proves where an image comes from is its owner, as EC2 reports it:
 * - `ImageOwnerAlias` is from an Amazon-maintained list (`amazon | aws-backup-vault |
 *   aws-marketplace`, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Image.html);
 *   no account can give itself `amazon`, which every EKS-optimized, Bottlerocket and Windows
 *   EKS image carries whatever the account id that publishes it in a region;
 * - `OwnerId`, the account that owns the image.
 *
 * So an EKS-optimized group runs only images owned by `amazon`; a custom-AMI group only images
 * owned by the accounts its `ami-owners` tag names (default: this account). DescribeImages
 * resolves `self` and `amazon` the same way in its `Owners` parameter
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html).
 * `aws-marketplace` is not accepted: it stands for every Marketplace seller at once; name the
 * seller's account id instead.
 */

export const OWNERS_TAG = `${POLICY_TAG_PREFIX}ami-owners`;

/** `self`, `amazon` or a 12-digit account id. */
export type ImageOwnerName = string;

export type ImageTrust =
  /** EKS-optimized lines (AL2023, AL2, Bottlerocket, Windows): Amazon's images only */
  | { kind: 'amazon' }
  /** custom AMIs: the owners the group's `ami-owners` tag allows */
  | { kind: 'owners'; owners: readonly ImageOwnerName[] };

export interface ImageOwner {
  ownerId?: string | undefined;
  ownerAlias?: string | undefined;
}

const DEFAULT_OWNERS: readonly ImageOwnerName[] = ['self'];

/**
 * The `ami-owners` tag: owners separated by commas or spaces (EKS node group tag values allow
 * no commas, Auto Scaling group tags do). A malformed value is reported and the default
 * (`self`) applies: a typo never widens whose images the group runs. Pure.
 */
export function readAmiOwners(tags: Readonly<Record<string, string>>): { owners: readonly ImageOwnerName[]; given: boolean; problems: string[] } {
  const text = tags[OWNERS_TAG];
  if (text === undefined) return { owners: DEFAULT_OWNERS, given: false, problems: [] };
  const owners = text.split(/[\s,]+/).filter(Boolean);
  const bad = owners.filter((o) => !/^(self|amazon|\d{12})$/.test(o));
  if (owners.length === 0 || bad.length > 0) {
    const why = bad.includes('aws-marketplace') ? ' (aws-marketplace would allow every Marketplace seller: name the seller\'s account id)' : '';
    return { owners: DEFAULT_OWNERS, given: true, problems: [`${OWNERS_TAG}=${text} needs self, amazon or 12-digit account ids separated by commas or spaces${why}; using self`] };
  }
  return { owners: [...new Set(owners)], given: true, problems: [] };
}

/** The trust for a group whose images come from AWS's EKS-optimized line, or from a custom selector. */
export function imageTrustFor(source: 'eks-optimized' | 'custom', tags: Readonly<Record<string, string>>): { trust: ImageTrust; problems: string[] } {
  if (source === 'eks-optimized') return { trust: { kind: 'amazon' }, problems: [] };
  const { owners, problems } = readAmiOwners(tags);
  return { trust: { kind: 'owners', owners }, problems };
}

export function ownerOfImage(image: Pick<ImageView, 'OwnerId' | 'ImageOwnerAlias'>): ImageOwner {
  return { ...(image.OwnerId ? { ownerId: image.OwnerId } : {}), ...(image.ImageOwnerAlias ? { ownerAlias: image.ImageOwnerAlias } : {}) };
}

/** `amazon 602401143452`, `666666666666`, or `an unknown owner`: how messages name an owner. */
export function ownerLabel(owner: ImageOwner): string {
  const parts = [owner.ownerAlias, owner.ownerId].filter((p): p is string => Boolean(p));
  return parts.length ? parts.join(' ') : 'an unknown owner';
}

export type ProvenanceVerdict =
  | { trusted: true; owner: string }
  | { trusted: false; owner: string; reason: string };

/**
 * Whether a group may run an image, by its owner. Pure.
 * `selfAccount` is the account the group lives in (what `self` means); when it is unknown,
 * `self` matches nothing (fail closed).
 */
export function judgeProvenance(
  image: ImageOwner & { imageId: string; name?: string | undefined },
  trust: ImageTrust,
  selfAccount: string | undefined,
): ProvenanceVerdict {
  const owner = ownerLabel(image);
  const label = image.name ? `${image.imageId} (${image.name})` : image.imageId;
  if (trust.kind === 'amazon') {
    if (image.ownerAlias === 'amazon') return { trusted: true, owner };
    return {
      trusted: false,
      owner,
      reason: `image ${label} is owned by ${owner}, not by Amazon: an EKS-optimized node group runs only images EC2 reports as owned by amazon, whatever their name says`,
    };
  }
  const allowed = trust.owners.some((o) =>
    o === 'amazon' ? image.ownerAlias === 'amazon' : o === 'self' ? selfAccount !== undefined && image.ownerId === selfAccount : image.ownerId === o,
  );
  if (allowed) return { trusted: true, owner };
  const self = trust.owners.includes('self') ? (selfAccount ? ` (self is ${selfAccount})` : ' (this account could not be told, so self matches nothing)') : '';
  return {
    trusted: false,
    owner,
    reason: `image ${label} is owned by ${owner}, which the group's ${OWNERS_TAG} (${trust.owners.join(', ')}) does not allow${self}`,
  };
}

/**
 * A target image as people read it: `v20261230 (ami-0abc…, amazon-eks-node-al2023-…, owner
 * amazon 602401143452)`. What an approver must see to know what they wave through.
 */
export function describeImage(image: ImageOwner & { imageId?: string | undefined; imageName?: string | undefined; release?: string | undefined }): string {
  const owned = image.ownerId || image.ownerAlias ? `owner ${ownerLabel(image)}` : undefined;
  const details = [image.imageId, image.release && image.imageName !== image.release ? image.imageName : undefined, owned].filter((p): p is string => Boolean(p));
  const head = image.release ?? image.imageName ?? image.imageId;
  if (!head) return 'unknown';
  const rest = details.filter((d) => d !== head);
  return rest.length ? `${head} (${rest.join(', ')})` : head;
}
