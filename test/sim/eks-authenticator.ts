import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { timingSafeEqual } from 'node:crypto';
import { CLUSTER_ID_HEADER, TOKEN_PREFIX } from '../../shared/kube/eks-token.js';

/**
 * What EKS's authenticator does with a bearer token, for the sandbox's API server: decode
 * the presigned STS URL, check its shape and age, and — standing in for STS, which would
 * reject a signature over the wrong cluster id — sign the same request again with the
 * sandbox's credentials and this cluster's name, and compare signatures.
 */
export interface AuthenticatorOptions {
  cluster: string;
  /** the credentials the token must be signed with, or those of the access key it names (undefined: a key STS does not know) */
  credentials: Credentials | ((accessKeyId: string) => Credentials | undefined);
  now: () => number;
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export type AuthResult = { ok: true } | { ok: false; reason: string };

const MAX_AGE_MS = 15 * 60_000;

export async function authenticateEksToken(token: string, options: AuthenticatorOptions): Promise<AuthResult> {
  if (!token.startsWith(TOKEN_PREFIX)) return { ok: false, reason: 'not a k8s-aws-v1 token' };
  const encoded = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return { ok: false, reason: 'token is not base64url without padding' };
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'token does not decode to a URL' };
  }
  const q = url.searchParams;
  // aws-iam-authenticator accepts the global endpoint and the regional ones of each partition:
  // sts.<region>.amazonaws.com, and in China sts.<region>.amazonaws.com.cn (and nothing else)
  const host = /^sts(?:\.([a-z0-9-]+))?\.amazonaws\.com(\.cn)?$/.exec(url.hostname);
  const china = (region: string | undefined) => region !== undefined && region.startsWith('cn-');
  if (url.protocol !== 'https:' || !host || url.pathname !== '/' || Boolean(host[2]) !== china(host[1]) || (host[2] && !host[1])) {
    return { ok: false, reason: `unexpected STS endpoint ${url.host}${url.pathname}` };
  }
  if (q.get('Action') !== 'GetCallerIdentity' || q.get('Version') !== '2011-06-15') return { ok: false, reason: 'not a GetCallerIdentity request' };
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes(CLUSTER_ID_HEADER)) return { ok: false, reason: `${CLUSTER_ID_HEADER} is not signed` };
  const amzDate = q.get('X-Amz-Date') ?? '';
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (Number.isNaN(signedAt)) return { ok: false, reason: 'bad X-Amz-Date' };
  const age = options.now() - signedAt;
  if (age > MAX_AGE_MS) return { ok: false, reason: 'token expired' };
  if (age < -5 * 60_000) return { ok: false, reason: 'token signed in the future' };
  const [accessKeyId = '', , region] = (q.get('X-Amz-Credential') ?? '').split('/');
  const credentials = typeof options.credentials === 'function' ? options.credentials(accessKeyId) : options.credentials;
  if (!credentials || accessKeyId !== credentials.accessKeyId) return { ok: false, reason: 'unknown access key' };
  // temporary credentials sign with their session token (X-Amz-Security-Token), and only with it
  if ((q.get('X-Amz-Security-Token') ?? undefined) !== credentials.sessionToken) return { ok: false, reason: 'security token does not match the access key' };
  // a regional endpoint only answers requests signed for its own region
  if (host[1] && region !== host[1]) return { ok: false, reason: `signed for ${region}, sent to ${url.host}` };

  const expected = await new SignatureV4({
    credentials,
    region: region ?? 'us-east-1',
    service: 'sts',
    sha256: Hash.bind(null, 'sha256'),
  }).presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: url.hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: url.hostname, [CLUSTER_ID_HEADER]: options.cluster },
    }),
    { expiresIn: Number(q.get('X-Amz-Expires') ?? '60'), signingDate: new Date(signedAt) },
  );
  const want = Buffer.from(String(expected.query?.['X-Amz-Signature'] ?? ''));
  const got = Buffer.from(q.get('X-Amz-Signature') ?? '');
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { ok: false, reason: `signature does not match cluster ${options.cluster}` };
  return { ok: true };
}
