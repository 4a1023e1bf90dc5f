import { ec2ImageSource, type ImageSource } from '../ami/describe-images.js';
import { resolveTarget } from '../ami/resolve-target.js';
import type { AwsScope } from '../aws/clients.js';
import type { ImageFilter, ImageView } from '../aws/images.js';
import type { SsmParameterCache } from '../ami/ssm-parameters.js';
import type { GroupView } from './inventory.js';
import type { TargetImage } from './plan-rollouts.js';
import { type Release, releaseOf } from '../fleet/release.js';

export type GroupTarget =
  /** `release`: the target as fleet promotion names it (undefined when resolution cannot say what the image is) */
  | { decision: 'target'; image: TargetImage & { imageName: string; release: string }; release?: Release; reason: string }
  | { decision: 'none'; reason: string }
  /** an image the group does not trust (its owner): nothing rolls onto it, and a person asking is refused */
  | { decision: 'untrusted'; image: { imageId: string; imageName: string; owner: string }; reason: string };

/**
 * Images for one detection, each looked up once: groups share targets (every AL2023 1.31
 * x86_64 group asks about the same recommended image), and the groups' current images were
 * fetched together beforehand.
 */
export function detectionImageSource(scope: AwsScope, prefetched: readonly ImageView[]): ImageSource {
  const source = ec2ImageSource(scope);
  const byId = new Map<string, Promise<ImageView | undefined>>(prefetched.map((image) => [image.ImageId!, Promise.resolve(image)]));
  const searches = new Map<string, Promise<ImageView[]>>();
  return {
    byId: (id: string) => {
      if (!byId.has(id)) byId.set(id, source.byId(id));
      return byId.get(id)!;
    },
    search: (owners: readonly string[], filters: readonly ImageFilter[]) => {
      const key = JSON.stringify([owners, filters]);
      if (!searches.has(key)) searches.set(key, source.search(owners, filters));
      return searches.get(key)!;
    },
  };
}

/** The image a group should run, for the Kubernetes minor its policy chose, from its channel and (custom AMIs) selector; see shared/ami/. */
export async function targetForGroup(ports: { images: ImageSource; ssm: SsmParameterCache }, group: GroupView, kubernetesVersion: string, now: Date): Promise<GroupTarget> {
  const resolved = await resolveTarget(
    { parameters: ports.ssm, images: ports.images },
    {
      kubernetesVersion,
      ...(group.amiType ? { amiType: group.amiType } : {}),
      ...(group.imageId ? { currentImageId: group.imageId } : {}),
      ...(group.accountId ? { accountId: group.accountId } : {}),
      tags: group.tags,
    },
    now,
  );
  if (resolved.decision === 'none') return { decision: 'none', reason: resolved.reason };
  if (resolved.decision === 'untrusted') return { decision: 'untrusted', image: { imageId: resolved.imageId, imageName: resolved.imageName, owner: resolved.owner }, reason: resolved.reason };
  const { imageId, imageName, release, ownerId, ownerAlias } = resolved;
  const fleetRelease = releaseOf(resolved);
  return { decision: 'target', image: { imageId, imageName, release, ...(ownerId ? { ownerId } : {}), ...(ownerAlias ? { ownerAlias } : {}) }, ...(fleetRelease ? { release: fleetRelease } : {}), reason: resolved.reason };
}
