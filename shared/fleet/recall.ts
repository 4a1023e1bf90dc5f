import { compareLineReleases, type Release } from './release.js';

/**
 * Has AWS (or the image's owner) taken a release back? Pure, over what each place of the
 * release answers. A release taken back is held like a regression (decide-promotion.ts).
 *
 * - `recalled`: an EKS-optimized release whose line's recommended release parameter now names
 *   an older release in every place asked. That is how a recall shows: AWS moves the
 *   recommendation back to the previous release (the EKS AMI release notes mark such releases
 *   withdrawn, as v20230211 was: https://github.com/awslabs/amazon-eks-ami/releases;
 *   the parameters: https://docs.aws.amazon.com/eks/latest/userguide/retrieve-ami-id.html).
 *   Every place, because AWS publishes a release region by region: one region still naming
 *   the previous release while the next already names this one is a release on its way, not
 *   taken back (the caller asks only places where the release's images exist).
 * - `deprecated`: one of the release's images is deprecated (its DeprecationTime has passed:
 *   https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html) or is gone
 *   (deregistered, or disabled: DescribeImages no longer lists it). Custom releases too.
 */
export interface Recall {
  kind: 'recalled' | 'deprecated';
  detail: string;
}

export interface RecallFacts {
  /** absent: the hub's own place */
  place?: { accountId: string; region: string };
  /** the line's recommended release parameter, for an EKS-optimized release that has one (not Windows) */
  parameter?: string;
  /** its value now; absent when the place has no such parameter */
  recommended?: string;
  images: readonly { imageId: string; found: boolean; deprecationTime?: string; state?: string }[];
}

export function judgeRecall(release: Release, places: readonly RecallFacts[], now: Date): Recall | undefined {
  return recalled(release, places) ?? deprecated(places, now);
}

function recalled(release: Release, places: readonly RecallFacts[]): Recall | undefined {
  if (release.source !== 'eks-optimized') return undefined;
  const asked = places.filter((p) => p.parameter !== undefined);
  const older = asked.filter((p) => p.recommended !== undefined && (compareLineReleases({ ...release, release: p.recommended }, release) ?? 0) < 0);
  if (asked.length === 0 || older.length < asked.length) return undefined;
  const first = older[0]!;
  const where = older.length === 1 ? placeName(first) : `${older.length} places`;
  return { kind: 'recalled', detail: `${first.parameter} names ${first.recommended} again (${where}), older than ${release.release}: the release was taken back` };
}

function deprecated(places: readonly RecallFacts[], now: Date): Recall | undefined {
  for (const p of places) {
    for (const image of p.images) {
      if (!image.found) return { kind: 'deprecated', detail: `${image.imageId} (${placeName(p)}) is no longer listed by EC2: deregistered or disabled` };
      const at = image.deprecationTime ? Date.parse(image.deprecationTime) : NaN;
      if (!Number.isNaN(at) && at <= now.getTime()) return { kind: 'deprecated', detail: `${image.imageId} (${placeName(p)}) is deprecated since ${image.deprecationTime}` };
    }
  }
  return undefined;
}

function placeName(p: RecallFacts): string {
  return p.place ? `${p.place.accountId}/${p.place.region}` : 'the hub';
}
