/**
 * The public AMI catalogue: EKS-optimized Amazon Linux 2023 / Amazon Linux 2,
 * Bottlerocket and Windows images, registered in EC2 (owner alias `amazon`) together with
 * the SSM public parameters that announce them, at the real parameter paths.
 *
 * Amazon Linux 2 stopped receiving releases at its end of support (2025-11-26), so the
 * seeded AL2 releases predate it while the others are from the weeks before the clock.
 */
import { eksInvalidParameter } from './errors';
import type { AMITypes } from '@aws-sdk/client-eks';
import type { AccountState } from './account-state';
import type { Ec2Service } from './ec2';
import type { AmiFamily, ImageRecord } from './ec2-records';
import type { PodCrash } from './node-registry';
import type { SsmService } from './ssm';

export type AmiVariant = 'standard' | 'nvidia' | 'neuron';
export type Architecture = 'x86_64' | 'arm64';

export interface AmiReleaseSpec {
  family: AmiFamily;
  kubernetesVersion: string;
  architecture?: Architecture;
  variant?: AmiVariant;
  windows?: { version: '2019' | '2022' | '2025'; edition: 'Core' | 'Full' };
  /** `YYYYMMDD`, the release's date (CreationDate, name suffix). */
  date: string;
  /** Point the recommended/latest parameters at it (default true). */
  recommend?: boolean;
  /** Leave it out of the account's timeline (catalogue seeding). */
  quiet?: boolean;
  /**
   * A bad release: instances boot and run, but the image's bootstrap fails on every one of
   * them, so no kubelet ever registers a Node. `true` fails the way the family's boot tooling
   * does (nodeadm, bootstrap.sh, early-boot-config, Start-EKSBootstrap.ps1); a string is the
   * failure's own text. Nothing in EC2 or SSM tells the image apart from a good one.
   */
  brokenBootstrap?: boolean | string;
  /**
   * A bad release whose nodes do join: its pods crash-loop (`'workloads'`) or its nodes never
   * become Ready (`'nodes'`); see `BadImage`. Like `brokenBootstrap`, invisible to EC2 and SSM.
   */
  badFor?: BadImage;
}

/**
 * Pods crash-loop on a node running the image, as after a kernel or cgroup change the apps
 * do not survive: every container of each affected pod exits at start, and the kubelet
 * restarts it with its back-off. Affected by default: every pod outside `kube-system` (the
 * cluster's own agents are built for the node images and keep running).
 */
export interface BadForWorkloads {
  for: 'workloads';
  /** only pods in these namespaces (default: every namespace but kube-system) */
  namespaces?: readonly string[];
  /** and only pods whose labels it selects, as a LabelSelector does */
  podSelector?: PodCrash['podSelector'];
  /** the containers' exit code (default 1) */
  exitCode?: number;
}

/** The kubelet registers the Node but it never becomes Ready (Ready False, reason KubeletNotReady). */
export interface BadForNodes {
  for: 'nodes';
  /** the Ready condition's message (default: the CNI never initializes, as the kubelet reports it) */
  message?: string;
}

export type BadImage = 'workloads' | 'nodes' | BadForWorkloads | BadForNodes;
export type BadImageSpec = BadForWorkloads | BadForNodes;

/** What the kubelet reports while the network plugin never comes up: the classic never-Ready node. */
export const NEVER_READY_MESSAGE = 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

/** Owner ids of the public images (EKS AMIs, Bottlerocket, Windows). */
const OWNERS: Record<AmiFamily, string> = {
  al2023: '602401143452',
  al2: '602401143452',
  bottlerocket: '651937483462',
  windows: '801119661308',
};

/** Latest Kubernetes patch per minor, for release versions and kubelet versions. */
const PATCH: Record<string, number> = { '1.28': 15, '1.29': 15, '1.30': 14, '1.31': 13, '1.32': 9, '1.33': 5, '1.34': 2 };

export interface AmiTypeInfo {
  family: AmiFamily;
  architecture: Architecture;
  variant: AmiVariant;
  windows?: { version: '2019' | '2022' | '2025'; edition: 'Core' | 'Full' };
}

export const AMI_TYPES: Partial<Record<AMITypes, AmiTypeInfo>> = {
  AL2023_x86_64_STANDARD: { family: 'al2023', architecture: 'x86_64', variant: 'standard' },
  AL2023_ARM_64_STANDARD: { family: 'al2023', architecture: 'arm64', variant: 'standard' },
  AL2023_x86_64_NVIDIA: { family: 'al2023', architecture: 'x86_64', variant: 'nvidia' },
  AL2023_ARM_64_NVIDIA: { family: 'al2023', architecture: 'arm64', variant: 'nvidia' },
  AL2023_x86_64_NEURON: { family: 'al2023', architecture: 'x86_64', variant: 'neuron' },
  AL2_x86_64: { family: 'al2', architecture: 'x86_64', variant: 'standard' },
  AL2_x86_64_GPU: { family: 'al2', architecture: 'x86_64', variant: 'nvidia' },
  AL2_ARM_64: { family: 'al2', architecture: 'arm64', variant: 'standard' },
  BOTTLEROCKET_x86_64: { family: 'bottlerocket', architecture: 'x86_64', variant: 'standard' },
  BOTTLEROCKET_ARM_64: { family: 'bottlerocket', architecture: 'arm64', variant: 'standard' },
  BOTTLEROCKET_x86_64_NVIDIA: { family: 'bottlerocket', architecture: 'x86_64', variant: 'nvidia' },
  BOTTLEROCKET_ARM_64_NVIDIA: { family: 'bottlerocket', architecture: 'arm64', variant: 'nvidia' },
  WINDOWS_CORE_2019_x86_64: { family: 'windows', architecture: 'x86_64', variant: 'standard', windows: { version: '2019', edition: 'Core' } },
  WINDOWS_FULL_2019_x86_64: { family: 'windows', architecture: 'x86_64', variant: 'standard', windows: { version: '2019', edition: 'Full' } },
  WINDOWS_CORE_2022_x86_64: { family: 'windows', architecture: 'x86_64', variant: 'standard', windows: { version: '2022', edition: 'Core' } },
  WINDOWS_FULL_2022_x86_64: { family: 'windows', architecture: 'x86_64', variant: 'standard', windows: { version: '2022', edition: 'Full' } },
  WINDOWS_CORE_2025_x86_64: { family: 'windows', architecture: 'x86_64', variant: 'standard', windows: { version: '2025', edition: 'Core' } },
  WINDOWS_FULL_2025_x86_64: { family: 'windows', architecture: 'x86_64', variant: 'standard', windows: { version: '2025', edition: 'Full' } },
};

interface Naming {
  imageName: string;
  releaseVersion: string;
  /** The parameter holding the recommended/latest image id. */
  imageIdParameter: string;
  /** The parameter holding the release version, when the family publishes one. */
  releaseParameter?: string;
  /** Everything else AWS publishes for this release: path → value. */
  extra: (imageId: string) => Record<string, string>;
}

/** Names and parameter paths exactly as AWS publishes them (see reference/rollout.md). */
export function naming(spec: AmiReleaseSpec): Naming {
  const k = spec.kubernetesVersion;
  const arch = spec.architecture ?? 'x86_64';
  const variant = spec.variant ?? 'standard';
  const patch = PATCH[k] ?? 0;
  switch (spec.family) {
    case 'al2023': {
      const base = `/aws/service/eks/optimized-ami/${k}/amazon-linux-2023/${arch}/${variant}`;
      const imageName = `amazon-eks-node-al2023-${arch}-${variant}-${k}-v${spec.date}`;
      const releaseVersion = `${k}.${patch}-${spec.date}`;
      return eksOptimizedRelease(base, imageName, releaseVersion);
    }
    case 'al2': {
      const flavour = variant === 'nvidia' ? 'amazon-linux-2-gpu' : arch === 'arm64' ? 'amazon-linux-2-arm64' : 'amazon-linux-2';
      const base = `/aws/service/eks/optimized-ami/${k}/${flavour}`;
      const prefix = variant === 'nvidia' ? 'amazon-eks-gpu-node' : arch === 'arm64' ? 'amazon-eks-arm64-node' : 'amazon-eks-node';
      const imageName = `${prefix}-${k}-v${spec.date}`;
      const releaseVersion = `${k}.${patch}-${spec.date}`;
      return eksOptimizedRelease(base, imageName, releaseVersion);
    }
    case 'bottlerocket': {
      const flavour = `aws-k8s-${k}${variant === 'nvidia' ? '-nvidia' : ''}`;
      const version = bottlerocketVersion(spec.date);
      const commit = shortHash(`${spec.date}${flavour}`);
      const base = `/aws/service/bottlerocket/${flavour}/${arch}`;
      return {
        imageName: `bottlerocket-${flavour}-${arch}-v${version}-${commit}`,
        releaseVersion: `${version}-${commit}`,
        imageIdParameter: `${base}/latest/image_id`,
        releaseParameter: `${base}/latest/image_version`,
        extra: (imageId) => ({ [`${base}/${version}/image_id`]: imageId, [`${base}/${version}/image_version`]: `${version}-${commit}` }),
      };
    }
    case 'windows': {
      const w = spec.windows ?? { version: '2022', edition: 'Core' };
      const stamp = `${spec.date.slice(0, 4)}.${spec.date.slice(4, 6)}.${spec.date.slice(6, 8)}`;
      const family = `Windows_Server-${w.version}-English-${w.edition}-EKS_Optimized-${k}`;
      return {
        imageName: `${family}-${stamp}`,
        releaseVersion: `${k}-${stamp}`,
        imageIdParameter: `/aws/service/ami-windows-latest/${family}/image_id`,
        extra: () => ({}),
      };
    }
  }
}

/** The EKS-optimized AMIs (AL2023, AL2): `<base>/recommended/{image_id,release_version}` and the JSON `recommended`. */
function eksOptimizedRelease(base: string, imageName: string, releaseVersion: string): Naming {
  return {
    imageName,
    releaseVersion,
    imageIdParameter: `${base}/recommended/image_id`,
    releaseParameter: `${base}/recommended/release_version`,
    extra: (imageId) => recommendedSet(base, imageName, imageId, releaseVersion),
  };
}

function recommendedSet(base: string, imageName: string, imageId: string, releaseVersion: string): Record<string, string> {
  const json = JSON.stringify({ schema_version: '3', image_id: imageId, image_name: imageName, release_version: releaseVersion });
  return {
    [`${base}/recommended`]: json,
    [`${base}/recommended/image_name`]: imageName,
    // every release also keeps its own subtree, which is how pinned channels resolve
    [`${base}/${imageName}`]: json,
    [`${base}/${imageName}/image_id`]: imageId,
    [`${base}/${imageName}/release_version`]: releaseVersion,
  };
}

/** Bottlerocket ships about every two weeks; derive a monotonic semver from the date. */
function bottlerocketVersion(date: string): string {
  const days = (Date.UTC(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8)) - Date.UTC(2025, 10, 1)) / 86_400_000;
  return `1.${50 + Math.floor(days / 14)}.0`;
}

function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** Where releases are found: EC2's images and SSM's public parameters (an account has both). */
export interface Releases {
  readonly ec2: Ec2Service;
  readonly ssm: SsmService;
}

/** Where releases are published: also the clock, and the timeline that notes them. */
export interface ReleasePublisher extends Releases, Pick<AccountState, 'clock' | 'note'> {}

/** Why each broken image's bootstrap fails, by image id, per account's EC2 (see `brokenBootstrap`). */
const BOOTSTRAP_FAILURES = new WeakMap<Ec2Service, Map<string, string>>();

/** The bootstrap failure of an image released with `brokenBootstrap`, for the kubelet. */
export function bootstrapFailure(ec2: Ec2Service, imageId: string): string | undefined {
  return BOOTSTRAP_FAILURES.get(ec2)?.get(imageId);
}

/** How each image is bad once joined, by image id, per account's EC2 (see `badFor`, `SimAccount.markImageBad`). */
const BAD_IMAGES = new WeakMap<Ec2Service, Map<string, BadImageSpec>>();

/** How an image released with `badFor` (or marked bad since) is bad, for the kubelet. */
export function badImage(ec2: Ec2Service, imageId: string): BadImageSpec | undefined {
  return BAD_IMAGES.get(ec2)?.get(imageId);
}

/** Records an image as bad (replacing an earlier mark): the kubelet applies it to nodes joining from now on. */
export function recordBadImage(ec2: Ec2Service, imageId: string, bad: BadImage): BadImageSpec {
  if (!ec2.images.get(imageId)) throw new Error(`cannot mark ${imageId} bad: no such image in this account's EC2`);
  const spec: BadImageSpec = bad === 'workloads' || bad === 'nodes' ? { for: bad } : { ...bad };
  let marks = BAD_IMAGES.get(ec2);
  if (!marks) BAD_IMAGES.set(ec2, (marks = new Map()));
  marks.set(imageId, spec);
  return spec;
}

/** How each family's boot tooling reports a kubelet that would not start, as in the instance's console. */
function familyBootstrapFailure(family: AmiFamily): string {
  const kubelet = 'kubelet.service: Main process exited, code=exited, status=1/FAILURE';
  switch (family) {
    case 'al2023': return `bootstrap failed: nodeadm init exited 1 (${kubelet}); the kubelet never registered`;
    case 'al2': return `bootstrap failed: /etc/eks/bootstrap.sh exited 1 (${kubelet}); the kubelet never registered`;
    case 'bottlerocket': return `bootstrap failed: early-boot-config could not apply the settings (${kubelet}); the kubelet never registered`;
    case 'windows': return 'bootstrap failed: Start-EKSBootstrap.ps1 exited 1 (the kubelet service stopped: error 1067); the kubelet never registered';
  }
}

/**
 * Registers a release's image and (unless `recommend: false`) publishes its parameters:
 * what AWS does when a new EKS AMI ships. Returns the image.
 */
export function releaseAmi(account: ReleasePublisher, spec: AmiReleaseSpec): ImageRecord {
  const names = naming(spec);
  const k = spec.kubernetesVersion;
  const created = new Date(Date.UTC(+spec.date.slice(0, 4), +spec.date.slice(4, 6) - 1, +spec.date.slice(6, 8), 4, 0, 0));
  const at = created.getTime() > account.clock.now() ? account.clock.date() : created;
  const image = account.ec2.registerImage({
    name: names.imageName,
    family: spec.family,
    kubernetesVersion: k,
    kubeletVersion: `v${k}.${PATCH[k] ?? 0}-eks-${shortHash(k).slice(0, 7)}`,
    variant: spec.variant ?? 'standard',
    releaseVersion: names.releaseVersion,
    architecture: spec.architecture ?? 'x86_64',
    windows: spec.family === 'windows',
    ownerId: OWNERS[spec.family],
    ownerAlias: 'amazon',
    description: describe(spec, names.releaseVersion),
    creationDate: at.toISOString(),
    publicSsmParameterName: names.imageIdParameter,
  });
  if (spec.brokenBootstrap) {
    let failures = BOOTSTRAP_FAILURES.get(account.ec2);
    if (!failures) BOOTSTRAP_FAILURES.set(account.ec2, (failures = new Map()));
    failures.set(image.image.ImageId, typeof spec.brokenBootstrap === 'string' ? spec.brokenBootstrap : familyBootstrapFailure(spec.family));
  }
  if (spec.badFor) recordBadImage(account.ec2, image.image.ImageId, spec.badFor);
  if (spec.recommend !== false) {
    account.ssm.publish(names.imageIdParameter, image.image.ImageId, { dataType: 'aws:ec2:image', at });
    if (names.releaseParameter) account.ssm.publish(names.releaseParameter, names.releaseVersion, { at });
  }
  for (const [name, value] of Object.entries(names.extra(image.image.ImageId))) {
    // per-release parameters always exist; the `recommended` JSON follows `recommend`
    if (spec.recommend === false && name.endsWith('/recommended')) continue;
    if (spec.recommend === false && name.endsWith('/recommended/image_name')) continue;
    account.ssm.publish(name, value, { at });
  }
  if (!spec.quiet) account.note('ssm', `released ${names.imageName} (${image.image.ImageId})${spec.recommend === false ? '' : ` as ${names.imageIdParameter}`}`);
  return image;
}

function describe(spec: AmiReleaseSpec, release: string): string {
  switch (spec.family) {
    case 'al2023': return `EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: ${spec.kubernetesVersion}, release: ${release})`;
    case 'al2': return `EKS Kubernetes Worker AMI with AmazonLinux2 image, (k8s: ${spec.kubernetesVersion}, release: ${release})`;
    case 'bottlerocket': return `Bottlerocket OS ${release} for Kubernetes ${spec.kubernetesVersion}`;
    case 'windows': return `Microsoft Windows Server ${spec.windows?.version ?? '2022'} ${spec.windows?.edition ?? 'Core'} optimized for EKS ${spec.kubernetesVersion}`;
  }
}

export interface CatalogueOptions {
  kubernetesVersions?: string[];
  /** Release dates (YYYYMMDD), oldest first; the last one is recommended. */
  dates?: string[];
  /** AL2 stopped at its end of support. */
  al2Dates?: string[];
}

/** Seeds every family / architecture / variant for each Kubernetes version. */
export function seedAmiCatalogue(account: ReleasePublisher, options: CatalogueOptions = {}): void {
  const versions = options.kubernetesVersions ?? ['1.30', '1.31', '1.32'];
  const dates = options.dates ?? ['20261020', '20261105'];
  const al2Dates = options.al2Dates ?? ['20251028', '20251112'];
  for (const k of versions) {
    for (const date of dates) {
      for (const [architecture, variant] of [['x86_64', 'standard'], ['arm64', 'standard'], ['x86_64', 'nvidia'], ['arm64', 'nvidia'], ['x86_64', 'neuron']] as const) {
        releaseAmi(account, { family: 'al2023', kubernetesVersion: k, architecture, variant, date, quiet: true });
      }
      for (const [architecture, variant] of [['x86_64', 'standard'], ['arm64', 'standard'], ['x86_64', 'nvidia']] as const) {
        releaseAmi(account, { family: 'bottlerocket', kubernetesVersion: k, architecture, variant, date, quiet: true });
      }
      for (const version of ['2019', '2022', '2025'] as const) {
        for (const edition of ['Core', 'Full'] as const) {
          releaseAmi(account, { family: 'windows', kubernetesVersion: k, windows: { version, edition }, date, quiet: true });
        }
      }
    }
    // AL2 is published up to Kubernetes 1.32 only
    if (Number(k.split('.')[1]) <= 32) {
      for (const date of al2Dates) {
        for (const [architecture, variant] of [['x86_64', 'standard'], ['arm64', 'standard'], ['x86_64', 'nvidia']] as const) {
          releaseAmi(account, { family: 'al2', kubernetesVersion: k, architecture, variant, date, quiet: true });
        }
      }
    }
  }
}

/** The recommended image and release for an EKS AMI type, read from the SSM parameters. */
export function recommendedRelease(account: Releases, amiType: AMITypes, kubernetesVersion: string): { imageId: string; releaseVersion: string } | undefined {
  const info = AMI_TYPES[amiType];
  if (!info) return undefined;
  const names = naming({ ...info, kubernetesVersion, date: '19700101' });
  const imageId = account.ssm.value(names.imageIdParameter);
  if (!imageId) return undefined;
  const image = account.ec2.images.get(imageId);
  return { imageId, releaseVersion: image?.releaseVersion ?? (names.releaseParameter ? account.ssm.value(names.releaseParameter) ?? '' : '') };
}

/** The image of a given release of an AMI type (for `releaseVersion` pins). */
export function imageForRelease(account: Releases, amiType: AMITypes, kubernetesVersion: string, releaseVersion: string): ImageRecord | undefined {
  const info = AMI_TYPES[amiType];
  if (!info) return undefined;
  return [...account.ec2.images.values()].find(
    (r) =>
      r.family === info.family &&
      r.kubernetesVersion === kubernetesVersion &&
      r.image.Architecture === info.architecture &&
      (r.variant ?? 'standard') === info.variant &&
      r.releaseVersion === releaseVersion &&
      (!info.windows || r.image.Name.includes(`-${info.windows.version}-English-${info.windows.edition}-`)),
  );
}

/** The image of a requested release, or of the recommended one; EKS's error when there is none. */
export function resolveRelease(
  account: Releases,
  amiType: string,
  version: string,
  requested: string | undefined,
  names: { clusterName?: string; nodegroupName?: string },
): { imageId: string; releaseVersion: string } {
  if (requested) {
    const image = imageForRelease(account, amiType as never, version, requested);
    if (!image) throw eksInvalidParameter(`Requested release version ${requested} is not valid for kubernetes version ${version}.`, names);
    return { imageId: image.image.ImageId!, releaseVersion: requested };
  }
  const latest = recommendedRelease(account, amiType as never, version);
  if (!latest) throw eksInvalidParameter(`No ${amiType} AMI is published for Kubernetes ${version}.`, names);
  return { imageId: latest.imageId, releaseVersion: latest.releaseVersion };
}
