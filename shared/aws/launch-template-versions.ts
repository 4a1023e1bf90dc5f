import {
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  ModifyLaunchTemplateCommand,
  type LaunchTemplateTagSpecificationRequest,
  type LaunchTemplateVersion,
  type RequestLaunchTemplateData,
  type ResourceType,
} from '@aws-sdk/client-ec2';
import { createHash } from 'node:crypto';
import { type AwsScope, clientOf } from './clients.js';
import { callAws } from './call.js';

const ec2Of = (scope: AwsScope) => clientOf(scope, EC2Client);

/** A version's launch template data, in EC2's own shape (what CreateLaunchTemplateVersion takes). */
export type TemplateData = RequestLaunchTemplateData;
/** The tags a version gives the resources launched from it, by resource type. */
export type TemplateTagSpecification = LaunchTemplateTagSpecificationRequest;
/** A resource type a launch template can tag (`instance`, `volume`, …). */
export type TaggableResourceType = ResourceType;

export interface TemplateVersionView {
  launchTemplateId: string;
  version: number;
  isDefault: boolean;
  description?: string;
  imageId?: string;
  userData?: string;
  data: TemplateData;
}

function view(v: LaunchTemplateVersion): TemplateVersionView {
  return {
    launchTemplateId: v.LaunchTemplateId!,
    version: v.VersionNumber!,
    isDefault: v.DefaultVersion ?? false,
    ...(v.VersionDescription !== undefined ? { description: v.VersionDescription } : {}),
    imageId: v.LaunchTemplateData?.ImageId,
    userData: v.LaunchTemplateData?.UserData,
    data: (v.LaunchTemplateData ?? {}) as TemplateData,
  };
}

/** One version: a number, `$Latest` or `$Default`. */
export async function describeTemplateVersion(scope: AwsScope, launchTemplateId: string, version: string): Promise<TemplateVersionView | undefined> {
  const out = await callAws('ec2:DescribeLaunchTemplateVersions', () =>
    ec2Of(scope).send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId, Versions: [version] })),
  ).catch((error: Error) => {
    if (error.name.startsWith('InvalidLaunchTemplate')) return undefined;
    throw error;
  });
  const found = out?.LaunchTemplateVersions?.[0];
  return found ? view(found) : undefined;
}

/** The newest versions first (one page of up to 200: enough to find a duplicate and to prune). */
export async function recentTemplateVersions(scope: AwsScope, launchTemplateId: string, max = 200): Promise<TemplateVersionView[]> {
  const out = await callAws('ec2:DescribeLaunchTemplateVersions', () =>
    ec2Of(scope).send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId, MaxResults: max })),
  );
  return (out.LaunchTemplateVersions ?? []).map(view).sort((a, b) => b.version - a.version);
}

/**
 * A new version from `source` with the new image and user data. Idempotent: one of the
 * `recent` versions (from `recentTemplateVersions`) that already has this image and user data
 * is reused, and the create carries a ClientToken derived from (template, source, image, user
 * data), so a retried step creates nothing twice.
 */
export async function ensureTemplateVersion(
  scope: AwsScope,
  input: { launchTemplateId: string; sourceVersion: number; imageId: string; userData?: string; description: string; extra?: TemplateData },
  recent: readonly TemplateVersionView[],
): Promise<{ version: number; created: boolean }> {
  const same = recent.find((v) => v.imageId === input.imageId && (input.userData === undefined || v.userData === input.userData));
  if (same) return { version: same.version, created: false };
  const token = createHash('sha256')
    .update(JSON.stringify([input.launchTemplateId, input.sourceVersion, input.imageId, input.userData ?? null, input.extra ?? null]))
    .digest('hex')
    .slice(0, 64);
  const out = await callAws('ec2:CreateLaunchTemplateVersion', () =>
    ec2Of(scope).send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: input.launchTemplateId,
        SourceVersion: String(input.sourceVersion),
        VersionDescription: input.description.slice(0, 255),
        ClientToken: token,
        LaunchTemplateData: { ...(input.extra ?? {}), ImageId: input.imageId, ...(input.userData !== undefined ? { UserData: input.userData } : {}) },
      }),
    ),
  );
  return { version: out.LaunchTemplateVersion!.VersionNumber!, created: true };
}

/**
 * Versions to delete beyond the newest `keep`: never the default, never one in use, never
 * the newest (pure). A template holds at most 10,000 versions; pruning keeps far below.
 */
export function planPrune(versions: readonly { version: number; isDefault: boolean }[], inUse: ReadonlySet<number>, keep: number): number[] {
  const newest = [...versions].sort((a, b) => b.version - a.version);
  return newest
    .slice(Math.max(1, keep))
    .filter((v) => !v.isDefault && !inUse.has(v.version))
    .map((v) => v.version)
    .slice(0, 200); // DeleteLaunchTemplateVersions takes at most 200 a call
}

export async function deleteTemplateVersions(scope: AwsScope, launchTemplateId: string, versions: number[]): Promise<void> {
  if (versions.length === 0) return;
  await callAws('ec2:DeleteLaunchTemplateVersions', () =>
    ec2Of(scope).send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId, Versions: versions.map(String) })),
  );
}

/** How the versions this service creates describe themselves (`eks-node-lifecycle: <image>`). */
export const OUR_VERSION_DESCRIPTION = /^eks-node-lifecycle: /;

/** The template's default version becomes `version` (a `$Default` group rolled onto it). Idempotent. */
export async function setDefaultTemplateVersion(scope: AwsScope, launchTemplateId: string, version: string): Promise<void> {
  await callAws('ec2:ModifyLaunchTemplate', () => ec2Of(scope).send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: launchTemplateId, DefaultVersion: version })));
}

/**
 * Deletes `version` when it is this service's, the template's latest, and not its default, so
 * that `$Latest` names the version before it again (a `$Latest` group back where it was).
 * Anything else is left, and said: someone's newer version, or a version that is not ours.
 */
export async function dropLatestVersion(scope: AwsScope, launchTemplateId: string, version: string): Promise<'dropped' | 'gone' | 'not-latest' | 'not-ours' | 'default'> {
  const latest = await describeTemplateVersion(scope, launchTemplateId, '$Latest');
  if (!latest) return 'gone';
  if (String(latest.version) !== version) return Number(version) > latest.version ? 'gone' : 'not-latest';
  if (latest.isDefault) return 'default';
  if (!OUR_VERSION_DESCRIPTION.test(latest.description ?? '')) return 'not-ours';
  await deleteTemplateVersions(scope, launchTemplateId, [latest.version]);
  return 'dropped';
}
