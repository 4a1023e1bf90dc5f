import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { AMI_FAMILIES, type AmiIdentity, compareReleases, parseRelease } from '../ami/ami-family.js';

/**
 * A release: what one promotion moves through the rings. It is a target as detection resolves
 * it (ami/resolve-target.ts), without what differs between regions and accounts (the image
 * id): an EKS-optimized line (family, flavour, Kubernetes minor) at one release version, or a
 * custom image at its release (its `eks-node-lifecycle/release` tag, Image Builder version,
 * else its name — `toCandidate` decides which).
 */
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

export const AmiIdentitySchema = z.object({
  family: z.enum(AMI_FAMILIES as ['al2', 'al2023', 'bottlerocket', 'windows']),
  windows: z.optional(z.object({ version: z.enum(['2019', '2022', '2025']), edition: z.enum(['Core', 'Full']) })),
  architecture: z.enum(['x86_64', 'arm64']),
  variant: z.enum(['standard', 'nvidia', 'neuron']),
  fips: z.optional(z.literal(true)),
  kubernetesVersion: z.string().check(z.regex(/^\d+\.\d+$/)),
});

export const ReleaseSchema = z.discriminatedUnion('source', [
  z.object({ source: z.literal('eks-optimized'), identity: AmiIdentitySchema, release: text(128) }),
  z.object({ source: z.literal('custom'), release: text(255), imageName: z.optional(text(255)) }),
]);
export type Release = z.infer<typeof ReleaseSchema>;

type Identity = z.infer<typeof AmiIdentitySchema>;
// the schema reads exactly what ami-family.ts describes
true satisfies (Identity extends AmiIdentity ? (AmiIdentity extends Identity ? true : false) : false);

/** What `resolveTarget` (ami/resolve-target.ts) answers, as far as a release is concerned. */
export type ResolvedRelease =
  | { decision: 'target'; source: 'eks-optimized' | 'custom' | 'unknown'; identity?: AmiIdentity; imageId: string; imageName: string; release: string }
  | { decision: 'none' | 'untrusted' };

/** The release a resolved target is; undefined when resolution chose nothing (or cannot say what the image is). */
export function releaseOf(target: ResolvedRelease): Release | undefined {
  if (target.decision !== 'target') return undefined;
  if (target.source === 'eks-optimized' && target.identity) return { source: 'eks-optimized', identity: target.identity, release: target.release };
  if (target.source === 'custom') return { source: 'custom', release: target.release || target.imageId, ...(target.imageName ? { imageName: target.imageName } : {}) };
  return undefined;
}

/** Short enough for a chat command and for the name of the promotion's execution. */
const KEY_LENGTH = 80;
const SAFE = /[^A-Za-z0-9._-]/g;

/**
 * The release's stable name, the id of its promotion (and of its workflow execution):
 * `al2023-x86_64-standard-1.31-20241115`, `bottlerocket-arm64-nvidia-fips-1.31-1.26.0`,
 * `windows-2022-core-x86_64-standard-1.31-20241112`, `custom-platform-1.4.2`. A release
 * version written two ways (`1.31.3-20241115`, `v20241115`) is one release: the key holds the
 * date (or Bottlerocket's OS version). Text outside `[A-Za-z0-9._-]`, or a key too long, is
 * replaced and suffixed with a hash of the whole, so two releases never share a key.
 */
export function releaseKey(release: Release): string {
  const raw = release.source === 'custom' ? `custom-${release.release}` : eksKey(release.identity, release.release);
  return safeName(raw, SAFE);
}

/** `text` with every character outside `allowed` replaced, suffixed with a hash of the whole when anything was replaced or cut. */
function safeName(text: string, outside: RegExp): string {
  const safe = text.replace(outside, '_');
  if (safe === text && text.length <= KEY_LENGTH) return text;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${safe.slice(0, KEY_LENGTH - hash.length - 1)}-${hash}`;
}

/**
 * The name of the promotion's Step Functions execution: its key in the characters CloudWatch
 * logging accepts in a name (letters, digits, `-`, `_`; shared/ids.ts), so without the dots of
 * `1.31`: `al2023-x86_64-standard-1_31-20241115-<hash>`. One release, one name: starting it
 * twice is refused by Step Functions (ExecutionAlreadyExists).
 */
export function promotionExecutionName(release: Release): string {
  return safeName(releaseKey(release), /[^A-Za-z0-9_-]/g);
}

function eksKey(identity: AmiIdentity, version: string): string {
  const parsed = parseRelease(identity.family, version);
  const normal = parsed?.osVersion ?? parsed?.date ?? version.trim();
  return [
    identity.family,
    ...(identity.windows ? [identity.windows.version, identity.windows.edition.toLowerCase()] : []),
    identity.architecture,
    identity.variant,
    ...(identity.fips ? ['fips'] : []),
    identity.kubernetesVersion,
    normal,
  ].join('-');
}

/** The line a release belongs to (every release of it supersedes the one before): its key without the version. */
export function releaseLine(release: Release): string {
  return release.source === 'custom' ? 'custom' : eksKey(release.identity, '').replace(/-$/, '');
}

/**
 * Orders two releases of one line: negative when `a` is older; undefined when they are not of
 * one line or their versions cannot be compared (custom releases carry no order of their own).
 */
export function compareLineReleases(a: Release, b: Release): number | undefined {
  if (a.source !== 'eks-optimized' || b.source !== 'eks-optimized' || releaseLine(a) !== releaseLine(b)) return undefined;
  const [x, y] = [parseRelease(a.identity.family, a.release), parseRelease(b.identity.family, b.release)];
  return x && y ? compareReleases(x, y) : undefined;
}
