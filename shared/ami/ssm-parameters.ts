import type { AwsScope } from '../aws/clients.js';
import { getParameters, PARAMETERS_PER_CALL } from '../aws/parameters.js';
import type { AmiIdentity } from './ami-family.js';

export interface AmiParameterNames {
  /** Holds the id of the image AWS recommends now. */
  imageId: string;
  /** Holds its release (`1.31.3-20241115`, Bottlerocket `1.26.0-abcdef12`); Windows has none. */
  release?: string;
  /**
   * The folder where each release keeps its own `<image name>/release_version`
   * (AL2, AL2023 only), for images chosen by soak or pin rather than by recommendation.
   */
  releaseFolder?: string;
}

/** The public parameters that announce an identity's recommended image (reference/rollout.md). */
export function parameterNamesFor(identity: AmiIdentity): AmiParameterNames {
  const k = identity.kubernetesVersion;
  const arch = identity.architecture;
  switch (identity.family) {
    case 'al2023': {
      const base = `/aws/service/eks/optimized-ami/${k}/amazon-linux-2023/${arch}/${identity.variant}`;
      return { imageId: `${base}/recommended/image_id`, release: `${base}/recommended/release_version`, releaseFolder: base };
    }
    case 'al2': {
      // AL2 has one GPU flavour (x86_64) and no arm64 GPU image
      const flavour = identity.variant !== 'standard' ? 'amazon-linux-2-gpu' : arch === 'arm64' ? 'amazon-linux-2-arm64' : 'amazon-linux-2';
      const base = `/aws/service/eks/optimized-ami/${k}/${flavour}`;
      return { imageId: `${base}/recommended/image_id`, release: `${base}/recommended/release_version`, releaseFolder: base };
    }
    case 'bottlerocket': {
      const base = `/aws/service/bottlerocket/aws-k8s-${k}${identity.variant === 'nvidia' ? '-nvidia' : ''}${identity.fips ? '-fips' : ''}/${arch}`;
      return { imageId: `${base}/latest/image_id`, release: `${base}/latest/image_version` };
    }
    case 'windows': {
      const w = identity.windows ?? { version: '2022', edition: 'Core' };
      return { imageId: `/aws/service/ami-windows-latest/Windows_Server-${w.version}-English-${w.edition}-EKS_Optimized-${k}/image_id` };
    }
  }
}

/**
 * Public SSM parameters for one invocation: each name is fetched at most once, in
 * `GetParameters` batches of ten sent in parallel. A name SSM does not know
 * (`InvalidParameters`) is cached as missing. Throttling that outlives the SDK's retries
 * becomes `AwsTransientError`; a failed batch is forgotten so that a later `get` asks again.
 */
export class SsmParameterCache {
  /** GetParameters requests sent (the benchmark reads it). */
  calls = 0;
  private readonly values = new Map<string, Promise<string | undefined>>();

  constructor(private readonly aws: AwsScope) {}

  async get(names: readonly string[]): Promise<Map<string, string | undefined>> {
    const missing = [...new Set(names)].filter((name) => !this.values.has(name));
    for (let i = 0; i < missing.length; i += PARAMETERS_PER_CALL) this.fetch(missing.slice(i, i + PARAMETERS_PER_CALL));
    const entries = await Promise.all(names.map(async (name) => [name, await this.values.get(name)!] as const));
    return new Map(entries);
  }

  private fetch(batch: string[]): void {
    this.calls++;
    const answer = getParameters(this.aws, batch);
    answer.catch(() => {
      for (const name of batch) this.values.delete(name);
    });
    for (const name of batch) {
      this.values.set(
        name,
        answer.then((values) => values.get(name)),
      );
    }
  }
}
