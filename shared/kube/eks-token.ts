import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { regionalHost } from '../aws/partition.js';

/**
 * The bearer token EKS accepts (the same as `aws eks get-token`): a presigned STS
 * GetCallerIdentity URL whose signature covers the header `x-k8s-aws-id: <cluster>`, so a
 * token minted for one cluster is refused by every other. EKS accepts it for 15 minutes
 * after signing; we reuse it for 14.
 */
export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
const TOKEN_LIFETIME_MS = 15 * 60_000;
const REUSE_MARGIN_MS = 60_000;
/** what aws-iam-authenticator and `aws eks get-token` send */
const PRESIGN_EXPIRES_SECONDS = 60;

let chain: AwsCredentialIdentityProvider | undefined;
/** the SDK's default chain (environment, web identity, container, instance), memoized */
function defaultCredentials(): AwsCredentialIdentityProvider {
  chain ??= defaultProvider();
  return chain;
}

export interface EksToken {
  token: string;
  /** when EKS stops accepting it */
  expiresAt: Date;
}

export interface TokenSourceOptions {
  region: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  now: () => Date;
}

export async function createEksToken(cluster: string, options: TokenSourceOptions): Promise<EksToken> {
  // the regional STS endpoint of the region's partition: sts.cn-north-1.amazonaws.com.cn in China
  const hostname = regionalHost('sts', options.region);
  const signer = new SignatureV4({
    credentials: options.credentials ?? defaultCredentials(),
    region: options.region,
    service: 'sts',
    sha256: Hash.bind(null, 'sha256'),
  });
  const signingDate = options.now();
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: cluster },
    }),
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate },
  );
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(presigned.query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== null) query.append(key, v);
  }
  const url = `https://${hostname}/?${query.toString()}`;
  return {
    token: TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    expiresAt: new Date(signingDate.getTime() + TOKEN_LIFETIME_MS),
  };
}

/** Mints tokens per cluster and hands the same one out until shortly before it expires. */
export class EksTokenCache {
  private readonly tokens = new Map<string, Promise<EksToken>>();

  constructor(private readonly options: TokenSourceOptions) {}

  async get(cluster: string): Promise<string> {
    const cached = this.tokens.get(cluster);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt.getTime() - REUSE_MARGIN_MS > this.options.now().getTime()) return token.token;
    }
    const minting = createEksToken(cluster, this.options);
    this.tokens.set(cluster, minting);
    try {
      return (await minting).token;
    } catch (error) {
      this.tokens.delete(cluster);
      throw error;
    }
  }
}
