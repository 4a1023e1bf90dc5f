import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { World } from './world.js';

/**
 * A Lambda function URL with `AWS_IAM` auth, as the sandbox's callers reach it: what Lambda
 * does before the function runs — the SigV4 signature checked (service `lambda`, this region,
 * signed within five minutes of now, by a known access key), the caller named in
 * `requestContext.authorizer.iam` — and what it refuses: 403, with AWS's message, and the
 * function never invoked. (Simpler than AWS: the caller's own `lambda:InvokeFunctionUrl` /
 * `lambda:InvokeFunction` permissions are not evaluated — the sandbox holds only the
 * service's roles.)
 */
export interface SandboxCaller {
  accessKeyId: string;
  secretAccessKey: string;
  /** as STS names the caller: an assumed role is `arn:aws:sts::<account>:assumed-role/<role>/<session>` */
  arn: string;
}

export interface UrlResponse {
  status: number;
  text(): Promise<string>;
}

const SKEW_MS = 5 * 60_000;
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export class SimFunctionUrls {
  private readonly callers = new Map<string, SandboxCaller>();

  constructor(private readonly world: World) {}

  /** A caller whose credentials the sandbox's "IAM" knows. */
  addCaller(caller: SandboxCaller): void {
    this.callers.set(caller.accessKeyId, caller);
  }

  /** The URL of a function's function URL, in Lambda's form. */
  url(functionKey: string): string {
    const id = createHash('sha256').update(`${this.world.model.stage}/${functionKey}`).digest('hex').slice(0, 32);
    return `https://${id}.lambda-url.${this.world.model.region}.on.aws/`;
  }

  /** An HTTP request to one of the URLs (the CLI's `send`). */
  send = async (url: string, init: { method: string; headers: Record<string, string>; body: string }): Promise<UrlResponse> => {
    const target = new URL(url);
    const functionKey = this.world.model.functions.map((f) => f.key).find((key) => this.url(key) === `${target.origin}/`);
    if (!functionKey) return respond(404, { Message: 'Not Found' });
    const headers = Object.fromEntries(Object.entries(init.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const refusal = await this.verify(target, init.method, headers, init.body);
    if (typeof refusal === 'string') return respond(403, { Message: refusal });
    const event = {
      version: '2.0',
      rawPath: target.pathname,
      rawQueryString: '',
      headers,
      requestContext: {
        accountId: this.world.model.accountId,
        apiId: target.hostname.split('.')[0],
        authorizer: { iam: { accessKey: refusal.accessKeyId, accountId: this.world.model.accountId, callerId: refusal.accessKeyId, userArn: refusal.arn, userId: refusal.accessKeyId } },
        domainName: target.hostname,
        http: { method: init.method, path: target.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? 'sandbox' },
        requestId: createHash('sha256').update(`${init.body}${this.world.clock.now()}`).digest('hex').slice(0, 36),
        timeEpoch: this.world.clock.now(),
      },
      body: init.body,
      isBase64Encoded: false,
    };
    const out = (await this.world.lambda.invoke(functionKey, event)) as { statusCode: number; body: string };
    return { status: out.statusCode, text: async () => out.body };
  };

  /** The caller, or AWS's reason for a 403. */
  private async verify(target: URL, method: string, headers: Record<string, string>, body: string): Promise<SandboxCaller | string> {
    const auth = AUTHORIZATION.exec(headers['authorization'] ?? '');
    if (!auth) return 'Forbidden';
    const [, accessKeyId, , region, service, signedHeaders, signature] = auth;
    const caller = this.callers.get(accessKeyId!);
    if (!caller) return 'The security token included in the request is invalid.';
    if (region !== this.world.model.region || service !== 'lambda') return `Credential should be scoped to a valid region and service lambda (got ${region}/${service}).`;
    const amzDate = headers['x-amz-date'] ?? '';
    const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    if (Number.isNaN(signedAt)) return 'Forbidden';
    if (Math.abs(this.world.clock.now() - signedAt) > SKEW_MS) return `Signature expired: ${amzDate} is now earlier or later than 5 minutes from now.`;
    const names = signedHeaders!.split(';');
    if (!names.includes('host') || !names.includes('x-amz-date')) return 'Forbidden';
    const expected = await new SignatureV4({ credentials: caller, region: region!, service: 'lambda', sha256: Hash.bind(null, 'sha256') }).sign(
      new HttpRequest({
        method,
        protocol: target.protocol,
        hostname: target.hostname,
        path: target.pathname,
        headers: Object.fromEntries(names.map((n) => [n, headers[n] ?? ''])),
        body,
      }),
      { signingDate: new Date(signedAt), signableHeaders: new Set(names) },
    );
    const want = Buffer.from(/Signature=([0-9a-f]{64})/.exec(String(expected.headers['authorization']))?.[1] ?? '');
    const got = Buffer.from(signature!);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'The request signature we calculated does not match the signature you provided.';
    return caller;
  }
}

function respond(status: number, body: unknown): UrlResponse {
  return { status, text: async () => JSON.stringify(body) };
}
