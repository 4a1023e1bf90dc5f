import { POLICY_TAG_PREFIX } from '../config/node-group-policy.js';

/**
 * What a node group runs: the image family, its flavour, and the Kubernetes minor it was
 * built for. Pure; read from a managed node group's `amiType` or from an EC2 image.
 *
 * `fips` is set only for the Bottlerocket FIPS variants (`BOTTLEROCKET_*_FIPS`, parameters
 * under `aws-k8s-<k8s>-fips` / `aws-k8s-<k8s>-nvidia-fips`): a FIPS group must never be
 * moved to a non-FIPS image, so it is part of the identity.
 */
export type AmiFamily = 'al2' | 'al2023' | 'bottlerocket' | 'windows';
export type AmiArchitecture = 'x86_64' | 'arm64';
export type AmiVariant = 'standard' | 'nvidia' | 'neuron';
export type WindowsVersion = '2019' | '2022' | '2025';
export type WindowsEdition = 'Core' | 'Full';

export interface AmiIdentity {
  family: AmiFamily;
  windows?: { version: WindowsVersion; edition: WindowsEdition };
  architecture: AmiArchitecture;
  variant: AmiVariant;
  fips?: true;
  /** Kubernetes minor, `1.31` */
  kubernetesVersion: string;
}

export const AMI_FAMILIES: readonly AmiFamily[] = ['al2', 'al2023', 'bottlerocket', 'windows'];

type Flavour = Omit<AmiIdentity, 'kubernetesVersion'>;

/** Every EKS `amiType` but CUSTOM (whose image is whatever the launch template names). */
export const AMI_TYPE_FLAVOURS: Readonly<Record<string, Flavour>> = {
  AL2_x86_64: { family: 'al2', architecture: 'x86_64', variant: 'standard' },
  AL2_x86_64_GPU: { family: 'al2', architecture: 'x86_64', variant: 'nvidia' },
  AL2_ARM_64: { family: 'al2', architecture: 'arm64', variant: 'standard' },
  AL2023_x86_64_STANDARD: { family: 'al2023', architecture: 'x86_64', variant: 'standard' },
  AL2023_ARM_64_STANDARD: { family: 'al2023', architecture: 'arm64', variant: 'standard' },
  AL2023_x86_64_NVIDIA: { family: 'al2023', architecture: 'x86_64', variant: 'nvidia' },
  AL2023_ARM_64_NVIDIA: { family: 'al2023', architecture: 'arm64', variant: 'nvidia' },
  AL2023_x86_64_NEURON: { family: 'al2023', architecture: 'x86_64', variant: 'neuron' },
  BOTTLEROCKET_x86_64: { family: 'bottlerocket', architecture: 'x86_64', variant: 'standard' },
  BOTTLEROCKET_ARM_64: { family: 'bottlerocket', architecture: 'arm64', variant: 'standard' },
  BOTTLEROCKET_x86_64_NVIDIA: { family: 'bottlerocket', architecture: 'x86_64', variant: 'nvidia' },
  BOTTLEROCKET_ARM_64_NVIDIA: { family: 'bottlerocket', architecture: 'arm64', variant: 'nvidia' },
  BOTTLEROCKET_x86_64_FIPS: { family: 'bottlerocket', architecture: 'x86_64', variant: 'standard', fips: true },
  BOTTLEROCKET_ARM_64_FIPS: { family: 'bottlerocket', architecture: 'arm64', variant: 'standard', fips: true },
  BOTTLEROCKET_x86_64_NVIDIA_FIPS: { family: 'bottlerocket', architecture: 'x86_64', variant: 'nvidia', fips: true },
  BOTTLEROCKET_ARM_64_NVIDIA_FIPS: { family: 'bottlerocket', architecture: 'arm64', variant: 'nvidia', fips: true },
  WINDOWS_CORE_2019_x86_64: windowsFlavour('2019', 'Core'),
  WINDOWS_FULL_2019_x86_64: windowsFlavour('2019', 'Full'),
  WINDOWS_CORE_2022_x86_64: windowsFlavour('2022', 'Core'),
  WINDOWS_FULL_2022_x86_64: windowsFlavour('2022', 'Full'),
  WINDOWS_CORE_2025_x86_64: windowsFlavour('2025', 'Core'),
  WINDOWS_FULL_2025_x86_64: windowsFlavour('2025', 'Full'),
};

function windowsFlavour(version: WindowsVersion, edition: WindowsEdition): Flavour {
  return { family: 'windows', windows: { version, edition }, architecture: 'x86_64', variant: 'standard' };
}

const MINOR = /^(\d+\.\d+)/;

/** `1.31`, `1.31.3`, `1.31.3-20241115` → `1.31` */
function kubernetesMinor(text: string | undefined): string | undefined {
  return text ? MINOR.exec(text.trim())?.[1] : undefined;
}

/**
 * A managed node group's image from its `amiType` and `version` (or, without `version`,
 * the minor in its `releaseVersion`). Undefined for CUSTOM and for an unknown type.
 */
export function identityFromAmiType(amiType: string | undefined, version: string | undefined, releaseVersion?: string): AmiIdentity | undefined {
  const flavour = amiType ? AMI_TYPE_FLAVOURS[amiType] : undefined;
  // Bottlerocket release versions are OS versions (1.26.0), not Kubernetes versions
  const kubernetesVersion = kubernetesMinor(version) ?? (flavour?.family === 'bottlerocket' ? undefined : kubernetesMinor(releaseVersion));
  if (!flavour || !kubernetesVersion) return undefined;
  return { ...structuredClone(flavour), kubernetesVersion };
}

/**
 * Image names as AWS publishes them (see reference/rollout.md):
 * - `amazon-eks-node-al2023-x86_64-standard-1.31-v20241115`
 * - `amazon-eks-node-1.30-v20241115`, `amazon-eks-gpu-node-…`, `amazon-eks-arm64-node-…`
 * - `bottlerocket-aws-k8s-1.31[-nvidia][-fips]-x86_64-v1.26.0-<commit>`
 * - `Windows_Server-2022-English-Core-EKS_Optimized-1.31-2024.11.12`
 */
const NAME_PATTERNS: readonly [RegExp, (m: RegExpExecArray) => AmiIdentity][] = [
  [
    /^amazon-eks-node-al2023-(x86_64|arm64)-(standard|nvidia|neuron)-(\d+\.\d+)-v\d{8}$/,
    (m) => ({ family: 'al2023', architecture: m[1] as AmiArchitecture, variant: m[2] as AmiVariant, kubernetesVersion: m[3]! }),
  ],
  [
    /^amazon-eks-(gpu-|arm64-)?node-(\d+\.\d+)-v\d{8}$/,
    (m) => ({
      family: 'al2',
      architecture: m[1] === 'arm64-' ? 'arm64' : 'x86_64',
      variant: m[1] === 'gpu-' ? 'nvidia' : 'standard',
      kubernetesVersion: m[2]!,
    }),
  ],
  [
    /^bottlerocket-aws-k8s-(\d+\.\d+)(-nvidia)?(-fips)?-(x86_64|arm64)-v\d+\.\d+\.\d+(-[0-9a-f]+)?$/,
    (m) => ({
      family: 'bottlerocket',
      architecture: m[4] as AmiArchitecture,
      variant: m[2] ? 'nvidia' : 'standard',
      ...(m[3] ? { fips: true as const } : {}),
      kubernetesVersion: m[1]!,
    }),
  ],
  [
    /^Windows_Server-(2019|2022|2025)-English-(Core|Full)-EKS_Optimized-(\d+\.\d+)-\d{4}\.\d{2}\.\d{2}$/,
    (m) => ({ ...windowsFlavour(m[1] as WindowsVersion, m[2] as WindowsEdition), kubernetesVersion: m[3]! }),
  ],
];

/** The identity an AWS-published image name spells out, or undefined. */
export function identityFromImageName(name: string | undefined): AmiIdentity | undefined {
  for (const [pattern, build] of NAME_PATTERNS) {
    const m = pattern.exec(name ?? '');
    if (m) return build(m);
  }
  return undefined;
}

/** The fields of a DescribeImages item this module reads. */
export interface ImageLike {
  ImageId?: string;
  Name?: string;
  Architecture?: string;
  PlatformDetails?: string;
  ImageOwnerAlias?: string;
  Tags?: readonly { Key?: string; Value?: string }[];
}

/**
 * Tags a custom image (Packer, Image Builder) may carry to say what it is built from:
 *
 * | tag (prefix `eks-node-lifecycle/`) | values | default |
 * |---|---|---|
 * | ami-family | al2, al2023, bottlerocket, windows | required |
 * | kubernetes-version | 1.31 | required |
 * | ami-variant | standard, nvidia, neuron | standard |
 * | ami-architecture | x86_64, arm64 | the image's Architecture |
 * | windows-version, windows-edition | 2019/2022/2025, Core/Full | 2022, Core (Windows only) |
 */
export const IMAGE_TAGS = {
  family: `${POLICY_TAG_PREFIX}ami-family`,
  kubernetesVersion: `${POLICY_TAG_PREFIX}kubernetes-version`,
  variant: `${POLICY_TAG_PREFIX}ami-variant`,
  architecture: `${POLICY_TAG_PREFIX}ami-architecture`,
  windowsVersion: `${POLICY_TAG_PREFIX}windows-version`,
  windowsEdition: `${POLICY_TAG_PREFIX}windows-edition`,
} as const;

/**
 * What an image is: from its name when AWS published it, else from the tags above, else
 * undefined (a custom AMI nobody described: the group's selector decides what replaces it).
 */
export function identifyImage(image: ImageLike): AmiIdentity | undefined {
  const named = identityFromImageName(image.Name);
  if (named) return named;
  const tags = Object.fromEntries((image.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  const family = tags[IMAGE_TAGS.family]?.trim();
  const kubernetesVersion = kubernetesMinor(tags[IMAGE_TAGS.kubernetesVersion]);
  if (!family || !(AMI_FAMILIES as readonly string[]).includes(family) || !kubernetesVersion) return undefined;
  const architecture = tags[IMAGE_TAGS.architecture]?.trim() ?? image.Architecture;
  if (architecture !== 'x86_64' && architecture !== 'arm64') return undefined;
  const variant = tags[IMAGE_TAGS.variant]?.trim() ?? 'standard';
  if (variant !== 'standard' && variant !== 'nvidia' && variant !== 'neuron') return undefined;
  const identity: AmiIdentity = { family: family as AmiFamily, architecture, variant, kubernetesVersion };
  if (family === 'windows') {
    const version = tags[IMAGE_TAGS.windowsVersion]?.trim() ?? '2022';
    const edition = tags[IMAGE_TAGS.windowsEdition]?.trim() ?? 'Core';
    if (!['2019', '2022', '2025'].includes(version) || !['Core', 'Full'].includes(edition)) return undefined;
    identity.windows = { version: version as WindowsVersion, edition: edition as WindowsEdition };
  } else if (image.PlatformDetails?.startsWith('Windows')) {
    return undefined; // tags contradict the image
  }
  return identity;
}

/**
 * True for an image AWS publishes for EKS (an `amazon`-owned image with a recognised name):
 * its successors are announced through SSM. Anything else is a custom image.
 */
export function isEksOptimizedImage(image: ImageLike): boolean {
  return image.ImageOwnerAlias === 'amazon' && identityFromImageName(image.Name) !== undefined;
}

// ---- releases ----

/**
 * A release, comparable within its family. Text forms understood:
 * - AL2 / AL2023: `1.31.3-20241115` (releaseVersion), `v20241115`, `20241115`, or an image name
 * - Windows: `1.31-2024.11.12`, `2024.11.12`, or an image name
 * - Bottlerocket: `1.26.0`, `v1.26.0`, `1.26.0-abcdef12` (image_version), or an image name
 */
export interface ParsedRelease {
  family: AmiFamily;
  text: string;
  /** `1.31` or `1.31.3`, when the text names it */
  kubernetesVersion?: string;
  /** `YYYYMMDD` (AL2, AL2023, Windows) */
  date?: string;
  /** Bottlerocket OS version, `1.26.0` */
  osVersion?: string;
}

export function parseRelease(family: AmiFamily, text: string): ParsedRelease | undefined {
  const t = text.trim();
  switch (family) {
    case 'al2':
    case 'al2023': {
      const full = /^(\d+\.\d+(?:\.\d+)?)-(\d{8})$/.exec(t);
      if (full && validDate(full[2]!)) return { family, text: t, kubernetesVersion: full[1]!, date: full[2]! };
      const bare = /^v?(\d{8})$/.exec(t);
      if (bare && validDate(bare[1]!)) return { family, text: t, date: bare[1]! };
      const named = /-(\d+\.\d+)-v(\d{8})$/.exec(t);
      if (named && identityFromImageName(t) && validDate(named[2]!)) return { family, text: t, kubernetesVersion: named[1]!, date: named[2]! };
      return undefined;
    }
    case 'windows': {
      const m = /(?:^|-)(?:(\d+\.\d+)-)?(\d{4})\.(\d{2})\.(\d{2})$/.exec(t);
      if (!m) return undefined;
      const date = `${m[2]}${m[3]}${m[4]}`;
      if (!validDate(date)) return undefined;
      return { family, text: t, ...(m[1] ? { kubernetesVersion: m[1] } : {}), date };
    }
    case 'bottlerocket': {
      const named = /^bottlerocket-aws-k8s-(\d+\.\d+)(?:-[a-z]+)*-(?:x86_64|arm64)-v(\d+\.\d+\.\d+)(?:-[0-9a-f]+)?$/.exec(t);
      if (named) return { family, text: t, kubernetesVersion: named[1]!, osVersion: named[2]! };
      const m = /^v?(\d+\.\d+\.\d+)(?:-[0-9a-f]+)?$/.exec(t);
      return m ? { family, text: t, osVersion: m[1]! } : undefined;
    }
  }
}

function validDate(yyyymmdd: string): boolean {
  const [y, m, d] = [+yyyymmdd.slice(0, 4), +yyyymmdd.slice(4, 6), +yyyymmdd.slice(6, 8)];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * Orders two releases of one family: negative when `a` is older. Bottlerocket compares OS
 * versions; the others the release date, then the Kubernetes version. Parts only one side
 * names are ignored (and Kubernetes versions compare on the components both have), so
 * `v20241115` equals `1.31.3-20241115`, which is how a pin matches an image name.
 */
export function compareReleases(a: ParsedRelease, b: ParsedRelease): number {
  if (a.osVersion !== undefined || b.osVersion !== undefined) {
    return compareNumbers(a.osVersion, b.osVersion);
  }
  if (a.date !== undefined && b.date !== undefined && a.date !== b.date) return a.date < b.date ? -1 : 1;
  return compareNumbers(a.kubernetesVersion, b.kubernetesVersion);
}

/** Dotted numbers on their common components; a missing side compares equal. */
function compareNumbers(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return 0;
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  }
  return 0;
}

/**
 * The DescribeImages `name` filter matching every release of an identity (and nothing
 * else: `amazon-eks-node-1.31-v*` cannot match an AL2023 name, nor `…-1.3-*` a 1.31 one).
 */
export function imageNamePattern(identity: AmiIdentity): string {
  const k = identity.kubernetesVersion;
  switch (identity.family) {
    case 'al2023':
      return `amazon-eks-node-al2023-${identity.architecture}-${identity.variant}-${k}-v*`;
    case 'al2': {
      const prefix = identity.variant !== 'standard' ? 'amazon-eks-gpu-node' : identity.architecture === 'arm64' ? 'amazon-eks-arm64-node' : 'amazon-eks-node';
      return `${prefix}-${k}-v*`;
    }
    case 'bottlerocket':
      return `bottlerocket-aws-k8s-${k}${identity.variant === 'nvidia' ? '-nvidia' : ''}${identity.fips ? '-fips' : ''}-${identity.architecture}-v*`;
    case 'windows': {
      const w = identity.windows ?? { version: '2022', edition: 'Core' };
      return `Windows_Server-${w.version}-English-${w.edition}-EKS_Optimized-${k}-*`;
    }
  }
}

/** True when two identities name the same image line (family, flavour and Kubernetes minor). */
export function sameIdentity(a: AmiIdentity, b: AmiIdentity): boolean {
  return (
    a.family === b.family &&
    a.architecture === b.architecture &&
    a.variant === b.variant &&
    Boolean(a.fips) === Boolean(b.fips) &&
    a.kubernetesVersion === b.kubernetesVersion &&
    a.windows?.version === b.windows?.version &&
    a.windows?.edition === b.windows?.edition
  );
}
