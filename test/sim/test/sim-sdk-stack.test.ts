import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeInstancesCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { HttpRequest } from '@smithy/protocol-http';
import type { StandardRetryBackoffStrategy } from '@smithy/types';
import { VirtualClock } from '../clock.js';
import { InvocationSleeps } from '../invocation-sleeps.js';
import { runAsInvocation, runningInvocation } from '../lambda.js';
import { bindSdkModel, type SandboxCall, type SdkModel } from '../sdk-stack.js';

/**
 * The sandbox inside the SDK's middleware stack (test/sim/sdk-stack.ts): a model answers each
 * attempt where the HTTP handler would have sent it, and the client's own serializer, signing
 * and standard retry strategy run around it, the strategy waiting on the virtual clock.
 */
const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' } };
const throttled = () => new EC2ServiceException({ name: 'RequestLimitExceeded', $fault: 'client', $metadata: { httpStatusCode: 503 }, message: 'Request limit exceeded.' });

interface Seen {
  command: string;
  attempt: number;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** A model failing the first `fail` attempts of every call with `error()`, recording what reached it. */
function model(clock: VirtualClock, options: { fail?: number; error?: () => Error; jitter?: number } = {}) {
  const seen: Seen[] = [];
  const ended: { command: string; attempts: number; error?: string }[] = [];
  const sleeps = InvocationSleeps.of(clock);
  const answer: SdkModel<SandboxCall> = {
    begin: (service, command, input) => {
      const invocation = runningInvocation();
      return {
        service,
        command,
        input,
        attempts: 0,
        jitter: () => options.jitter ?? 0.5,
        wait: async (ms) => {
          if (!invocation || !clock.settling) return 0;
          await sleeps.sleep(invocation, ms);
          return ms;
        },
        holdStill: (work) => clock.actor(work),
      };
    },
    attempt: async (call, request: HttpRequest) => {
      seen.push({ command: call.command, attempt: call.attempts, headers: { ...request.headers }, body: String(request.body), at: clock.now() });
      if (call.attempts <= (options.fail ?? 0)) throw (options.error ?? throttled)();
      return { output: { Reservations: [] }, requestId: `req-${seen.length}` };
    },
    end: (call, error) => ended.push({ command: call.command, attempts: call.attempts, ...(error ? { error: (error as Error).name } : {}) }),
  };
  return { answer, seen, ended };
}

function bound(t: { after: (fn: () => void) => void }, m: ReturnType<typeof model>) {
  const unbind = bindSdkModel([[EC2Client, 'ec2']], m.answer);
  t.after(unbind);
}

describe('Sandbox SDK stack: the client’s own middleware runs around the model', () => {
  it('serializes and signs each attempt, and the retry middleware numbers them', async (t) => {
    // Prepare
    const clock = new VirtualClock();
    const m = model(clock, { fail: 2 });
    bound(t, m);
    // Act
    const output = await new EC2Client(config).send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }));
    // Assess
    assert.deepEqual(output.Reservations, []);
    assert.deepEqual([output.$metadata.httpStatusCode, output.$metadata.attempts, output.$metadata.requestId], [200, 3, 'req-3']);
    assert.deepEqual(m.seen.map((s) => s.headers['amz-sdk-request']), ['attempt=1; max=3', 'attempt=2; max=3', 'attempt=3; max=3']);
    assert.ok(m.seen.every((s) => /^AWS4-HMAC-SHA256 Credential=AKIDSANDBOX\/\d{8}\/eu-west-1\/ec2\/aws4_request/.test(s.headers['authorization'] ?? '')), 'signed for EC2 in its region');
    assert.match(m.seen[0]!.body, /Action=DescribeInstances&Version=2016-11-15&InstanceId\.1=i-0123456789abcdef0/);
    assert.deepEqual(m.ended, [{ command: 'DescribeInstances', attempts: 3 }]);
  });

  it('gives a call up where the SDK does: after its attempts for throttling, at once for an error it does not retry', async (t) => {
    const clock = new VirtualClock();
    const m = model(clock, { fail: 99 });
    bound(t, m);
    await assert.rejects(new EC2Client(config).send(new DescribeInstancesCommand({})), (error: EC2ServiceException) => error.name === 'RequestLimitExceeded' && error.$metadata.attempts === 3);
    const invalid = model(clock, { fail: 99, error: () => new EC2ServiceException({ name: 'InvalidParameterValue', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'bad' }) });
    const unbind = bindSdkModel([[EC2Client, 'ec2']], invalid.answer);
    t.after(unbind);
    await assert.rejects(new EC2Client(config).send(new DescribeInstancesCommand({})), /bad/);
    assert.equal(invalid.seen.length, 1);
    // a client configured for one attempt gets one
    await assert.rejects(new EC2Client({ ...config, maxAttempts: 1 }).send(new DescribeInstancesCommand({})), /bad/);
    assert.equal(invalid.seen.length, 2);
  });

  it('refuses the adaptive retry mode loudly (it paces by the wall clock)', async (t) => {
    const m = model(new VirtualClock());
    bound(t, m);
    await assert.rejects(new EC2Client({ ...config, retryMode: 'adaptive' }).send(new DescribeInstancesCommand({})), /standard retry mode only/);
  });
});

describe('Sandbox SDK stack: the standard strategy’s backoff, on the virtual clock', () => {
  it('waits the SDK’s own backoff (base 1 s for throttling, doubling) inside an invocation, as virtual time', async (t) => {
    // Prepare: b = 0.5 for every draw
    const clock = new VirtualClock();
    const m = model(clock, { fail: 2, jitter: 0.5 });
    bound(t, m);
    const started = clock.now();
    // Act
    const call = runAsInvocation(clock, 'rollStep', {}, () => new EC2Client(config).send(new DescribeInstancesCommand({})));
    await clock.settle();
    const output = await call;
    // Assess: 0.5 × 1000, then 0.5 × 2000
    assert.deepEqual(m.seen.map((s) => s.at - started), [0, 500, 1_500]);
    assert.equal(output.$metadata.totalRetryDelay, 1_500);
    // the same delays as the SDK's own backoff strategy with that draw
    const sdk = (new StandardRetryStrategy(3) as unknown as { retryBackoffStrategy: StandardRetryBackoffStrategy }).retryBackoffStrategy;
    const random = Math.random;
    Math.random = () => 0.5;
    try {
      sdk.setDelayBase(1_000);
      assert.deepEqual([sdk.computeNextBackoffDelay(0), sdk.computeNextBackoffDelay(1)], [500, 1_000]);
    } finally {
      Math.random = random;
    }
  });

  it('retries a call made outside an invocation at once: nothing would let virtual time pass', async (t) => {
    const clock = new VirtualClock();
    const m = model(clock, { fail: 2 });
    bound(t, m);
    const output = await new EC2Client(config).send(new DescribeInstancesCommand({}));
    assert.equal(output.$metadata.attempts, 3);
    assert.equal(output.$metadata.totalRetryDelay, 0);
  });

  it('spends the client’s retry quota as the SDK does: 500 tokens, 5 per throttled retry, so the 101st retry in a row is refused', async (t) => {
    const clock = new VirtualClock();
    const m = model(clock, { fail: 99 });
    bound(t, m);
    const ec2 = new EC2Client(config);
    const attempts: number[] = [];
    for (let i = 0; i < 51; i++) {
      await ec2.send(new DescribeInstancesCommand({})).catch((error: EC2ServiceException) => attempts.push(error.$metadata.attempts!));
    }
    // 50 calls × 2 retries = 100 retries = 500 tokens; the 51st call gets no retry
    assert.deepEqual([attempts.slice(0, 50).every((a) => a === 3), attempts[50]], [true, 1]);
  });
});
