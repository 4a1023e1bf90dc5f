import assert from 'node:assert/strict';
import dns from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AutoScalingServiceException, ResourceContentionFault } from '@aws-sdk/client-auto-scaling';
import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  ReplicatedWriteConflictException,
  TransactionConflictException,
  TransactionInProgressException,
} from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { EC2ThrottledException } from '@aws-sdk/client-lambda';
import { callAws, isTransientAwsError } from '../../shared/aws/call.js';
import { AwsTransientError, ClusterNotFoundError } from '../../shared/errors.js';
import { connectionReset, dnsFailure, halfWrittenResponse, socketTimeout } from '@eks-node-lifecycle/sandbox';

/**
 * Which AWS failures are worth a later retry of the step (shared/aws/call.ts): every error the
 * SDK's own retry strategy would retry, classified by the same functions (@smithy/core/retry),
 * plus what AWS documents as retryable that they do not name. One family per describe; each
 * was missed by the classification before issue 14 (a name list and `$fault === 'server'`),
 * so an exhausted SDK retry failed the step through States.ALL.
 */

const metadata = (httpStatusCode: number) => ({ httpStatusCode, attempts: 3, totalRetryDelay: 1_234 });
const ec2Error = (name: string, httpStatusCode: number) => new EC2ServiceException({ name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: metadata(httpStatusCode), message: name });

async function rejected(call: () => Promise<unknown>): Promise<Error> {
  try {
    await call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('Transient AWS errors: the network, as the SDK surfaces it (provoked for real against a local server)', () => {
  let server: Server;
  let endpoint: string;
  let behaviour: 'reset' | 'hang-up' | 'half-body' | 'silent' = 'reset';
  const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' };
  const ec2 = (extra: object = {}) => new EC2Client({ region: 'eu-west-1', endpoint, credentials, maxAttempts: 1, ...extra });

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      if (behaviour === 'reset') req.socket.resetAndDestroy();
      if (behaviour === 'hang-up') req.socket.destroy();
      if (behaviour === 'half-body') {
        const body = '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><reservationSet/></DescribeInstancesResponse>';
        res.writeHead(200, { 'Content-Type': 'text/xml;charset=UTF-8', 'Content-Length': Buffer.byteLength(body), 'x-amzn-RequestId': 'r-1' });
        res.write(body.slice(0, body.length / 2));
        setTimeout(() => res.socket?.destroy(), 10);
      }
      // silent: never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('a connection reset before the answer (read ECONNRESET, as TimeoutError) is transient, and is the sandbox’s connection reset', async () => {
    behaviour = 'reset';
    const real = await rejected(() => ec2().send(new DescribeInstancesCommand({})));
    assert.deepEqual(pick(real), pick(connectionReset()));
    assert.equal(isTransientAwsError(real), true);
    const mapped = await rejected(() => callAws('ec2:DescribeInstances', () => ec2().send(new DescribeInstancesCommand({}))));
    assert.ok(mapped instanceof AwsTransientError, String(mapped));
    assert.equal((mapped.cause as Error).name, 'TimeoutError');
  });

  it('a connection closed without an answer (socket hang up) is transient', async () => {
    behaviour = 'hang-up';
    const real = await rejected(() => ec2().send(new DescribeInstancesCommand({})));
    assert.deepEqual([real.name, (real as { code?: string }).code, real.message], ['TimeoutError', 'ECONNRESET', 'socket hang up']);
    assert.equal(isTransientAwsError(real), true);
  });

  it('an answer cut off mid-body (aborted, with the 200 already read) is transient, and is the sandbox’s half-written response', async () => {
    behaviour = 'half-body';
    const real = await rejected(() => ec2().send(new DescribeInstancesCommand({})));
    assert.deepEqual(pick(real), pick(halfWrittenResponse('r-1')));
    assert.equal(isTransientAwsError(real), true);
  });

  it('nothing on the socket for its timeout (TimeoutError) is transient, and is the sandbox’s socket timeout', async () => {
    behaviour = 'silent';
    const real = await rejected(() => ec2({ requestHandler: { socketTimeout: 200 } }).send(new DescribeInstancesCommand({})));
    assert.deepEqual(pick(real), pick(socketTimeout(200, false)));
    assert.equal(isTransientAwsError(real), true);
    const requestTimeout = await rejected(() => ec2({ requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true } }).send(new DescribeInstancesCommand({})));
    assert.deepEqual([requestTimeout.name, (requestTimeout as { code?: string }).code], ['TimeoutError', 'ETIMEDOUT']);
    assert.equal(isTransientAwsError(requestTimeout), true);
  });

  it('a refused connection (ECONNREFUSED) is transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const real = await rejected(() => new EC2Client({ region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}`, credentials, maxAttempts: 1 }).send(new DescribeInstancesCommand({})));
    assert.equal((real as { code?: string }).code, 'ECONNREFUSED');
    assert.equal(isTransientAwsError(real), true);
  });

  it('a resolver that cannot answer (getaddrinfo EAI_AGAIN) is transient, and is the sandbox’s DNS failure', async (t) => {
    const lookup = dns.lookup;
    t.after(() => {
      dns.lookup = lookup;
    });
    // the resolver fails as a DNS server that does not answer in time does, without any network
    dns.lookup = ((hostname: string, options: unknown, callback?: (error: Error) => void) => {
      const done = (typeof options === 'function' ? options : callback) as (error: Error) => void;
      process.nextTick(() => done(dnsFailure(hostname)));
    }) as typeof dns.lookup;
    const real = await rejected(() => new EC2Client({ region: 'eu-west-1', credentials, maxAttempts: 1 }).send(new DescribeInstancesCommand({})));
    assert.deepEqual(pick(real), pick(dnsFailure('ec2.eu-west-1.amazonaws.com')));
    assert.equal(isTransientAwsError(real), true);
  });

  it('an error that wraps a network failure as its cause is transient', () => {
    assert.equal(isTransientAwsError(new Error('request failed', { cause: connectionReset() })), true);
    assert.equal(isTransientAwsError(Object.assign(new Error('write EPIPE'), { name: 'TimeoutError', code: 'EPIPE' })), true);
  });
});

describe('Transient AWS errors: throttling by every name the SDK knows', () => {
  const cases: [string, Error][] = [
    ['EC2ThrottledException (Lambda: EC2 throttled it)', new EC2ThrottledException({ message: 'throttled', Type: 'User', $metadata: metadata(502) })],
    ['TransactionInProgressException (DynamoDB)', new TransactionInProgressException({ message: 'in progress', $metadata: metadata(400) })],
    ['ProvisionedThroughputExceededException (DynamoDB)', new ProvisionedThroughputExceededException({ message: 'over', $metadata: metadata(400) })],
    ['RequestThrottled', ec2Error('RequestThrottled', 400)],
    ['RequestThrottledException', ec2Error('RequestThrottledException', 400)],
    ['ThrottledException', ec2Error('ThrottledException', 400)],
    ['PriorRequestNotComplete', ec2Error('PriorRequestNotComplete', 400)],
    ['BandwidthLimitExceeded', ec2Error('BandwidthLimitExceeded', 400)],
    ['SlowDown', ec2Error('SlowDown', 400)],
    ['any 429', new AutoScalingServiceException({ name: 'TooManyRequests', $fault: 'client', $metadata: metadata(429), message: 'slow down' })],
  ];
  for (const [name, error] of cases) {
    it(`${name} is transient`, () => assert.equal(isTransientAwsError(error), true));
  }
});

describe('Transient AWS errors: what AWS documents as retryable beyond the SDK’s names', () => {
  it('EC2 ConcurrentTagAccess (a 400: two requests writing one tag) is transient', () => {
    assert.equal(isTransientAwsError(ec2Error('ConcurrentTagAccess', 400)), true);
  });

  it('DynamoDB TransactionConflictException and ReplicatedWriteConflictException (400, "OK to retry? Yes") are transient', () => {
    assert.equal(isTransientAwsError(new TransactionConflictException({ message: 'conflict', $metadata: metadata(400) })), true);
    assert.equal(isTransientAwsError(new ReplicatedWriteConflictException({ message: 'conflict', $metadata: metadata(400) })), true);
  });

  it('Auto Scaling ResourceContentionFault ("a pending update") and EC2 server errors without a status are transient', () => {
    assert.equal(isTransientAwsError(new ResourceContentionFault({ message: 'You already have a pending update to an Auto Scaling resource', $metadata: metadata(500) })), true);
    for (const name of ['InternalError', 'Unavailable', 'ServiceUnavailable']) assert.equal(isTransientAwsError(Object.assign(new Error(name), { name })), true, name);
  });

  it('a server error the SDK does not retry (501) is still worth a later retry of the step', () => {
    assert.equal(isTransientAwsError(ec2Error('NotImplemented', 501)), true);
  });

  it('an error whose clock skew the SDK corrected is transient', () => {
    const skewed = ec2Error('RequestExpired', 400) as EC2ServiceException & { $metadata: { clockSkewCorrected?: boolean } };
    skewed.$metadata.clockSkewCorrected = true;
    assert.equal(isTransientAwsError(skewed), true);
  });
});

describe('Transient AWS errors: what is not transient stays so', () => {
  const cases: [string, unknown][] = [
    ['AccessDeniedException (IAM, though on the SDK’s clock-skew list)', Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client', $metadata: metadata(400) })],
    ['UnauthorizedOperation', ec2Error('UnauthorizedOperation', 403)],
    ['InvalidInstanceID.NotFound', ec2Error('InvalidInstanceID.NotFound', 400)],
    ['ValidationError', new AutoScalingServiceException({ name: 'ValidationError', $fault: 'client', $metadata: metadata(400), message: 'bad' })],
    ['ConditionalCheckFailedException', new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: metadata(400) })],
    ['a plain Error', new Error('boom')],
    ['an AbortError', Object.assign(new Error('Request aborted'), { name: 'AbortError', code: 'ECONNRESET' })],
    ['not an error at all', 'boom'],
    ['nothing', undefined],
  ];
  for (const [name, error] of cases) {
    it(`${name} is not transient`, () => assert.equal(isTransientAwsError(error), false));
  }

  it('callAws maps a known error first, even a transient-looking one, and rethrows the rest unchanged', async () => {
    const known = await rejected(() => callAws('eks:DescribeCluster', () => Promise.reject(ec2Error('ResourceNotFoundException', 404)), { ResourceNotFoundException: () => new ClusterNotFoundError('prod') }));
    assert.ok(known instanceof ClusterNotFoundError);
    const validation = ec2Error('InvalidParameterValue', 400);
    assert.equal(await rejected(() => callAws('ec2:CreateTags', () => Promise.reject(validation))), validation);
  });
});

function pick(error: Error): Record<string, unknown> {
  const e = error as Error & { code?: string; syscall?: string; errno?: number; $metadata?: { httpStatusCode?: number } };
  return { name: e.name, message: e.message, code: e.code, syscall: e.syscall, errno: e.errno, status: e.$metadata?.httpStatusCode };
}
