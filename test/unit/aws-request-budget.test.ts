import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { HttpResponse } from '@smithy/protocol-http';
import fc from 'fast-check';
import { awsScope, clientOf } from '../../shared/aws/clients.js';
import { budgetedLimit, DEFAULT_API_SHARE, documentedBucket, RequestBudget, RollingWindow } from '../../shared/aws/request-budget.js';
import { parseApiShare } from '../../shared/config/member-accounts.js';
import { ConfigurationError } from '../../shared/errors.js';

/**
 * The per-account-region API budget (aws/request-budget.ts): a share of AWS's documented EC2
 * buckets (and our assumptions for Auto Scaling and EKS), taken before every request the SDK
 * sends, waiting on the service's clock when a bucket is empty.
 */

/** A clock whose sleep only moves time on: what the sandbox's virtual clock does. */
function virtualClock(start = 0) {
  let t = start;
  const slept: number[] = [];
  return { now: () => t, sleep: async (ms: number) => void (slept.push(ms), (t += ms)), slept, advance: (ms: number) => (t += ms) };
}

describe('Request budget: the documented buckets', () => {
  it("EC2's categories, per API, as the throttling page sizes them", () => {
    assert.deepEqual(documentedBucket('ec2', 'DescribeImages', { ImageIds: ['ami-1'] }), { key: 'ec2:DescribeImages', limit: { capacity: 100, refillPerSecond: 20 } });
    assert.deepEqual(documentedBucket('ec2', 'DescribeInstances', { InstanceIds: ['i-1'] }).limit, { capacity: 50, refillPerSecond: 10 });
    assert.deepEqual(documentedBucket('ec2', 'DescribeInstances', { Filters: [{ Name: 'x', Values: ['y'] }] }).limit, { capacity: 100, refillPerSecond: 20 });
    assert.deepEqual(documentedBucket('ec2', 'CreateLaunchTemplateVersion').limit, { capacity: 100, refillPerSecond: 5 });
    assert.deepEqual(documentedBucket('ec2', 'RunInstances').limit, { capacity: 5, refillPerSecond: 2 });
    assert.deepEqual(documentedBucket('ec2', 'ModifyInstanceMetadataOptions').limit, { capacity: 50, refillPerSecond: 5 });
  });

  it('Auto Scaling: one bucket for every action (AWS: a single shared limit); EKS: per action', () => {
    assert.equal(documentedBucket('autoscaling', 'DescribeAutoScalingGroups').key, documentedBucket('autoscaling', 'SetDesiredCapacity').key);
    assert.notEqual(documentedBucket('eks', 'DescribeNodegroup').key, documentedBucket('eks', 'ListNodegroups').key);
    assert.deepEqual(documentedBucket('eks', 'UpdateNodegroupVersion').limit, { capacity: 50, refillPerSecond: 5 });
  });

  it('a budget allows its share of the refill in any second, at least one request; the bucket\'s burst is left to the account\'s other callers', () => {
    assert.equal(DEFAULT_API_SHARE, 0.5);
    assert.deepEqual(budgetedLimit({ capacity: 100, refillPerSecond: 20 }, 0.5), { requests: 10, windowMs: 1000 });
    assert.deepEqual(budgetedLimit({ capacity: 50, refillPerSecond: 5 }, 0.5), { requests: 2, windowMs: 1000 });
    assert.deepEqual(budgetedLimit({ capacity: 100, refillPerSecond: 20 }, 0.25), { requests: 5, windowMs: 1000 });
    // slower than one a second: one per the time the share takes to refill a token
    assert.deepEqual(budgetedLimit({ capacity: 5, refillPerSecond: 2 }, 0.1), { requests: 1, windowMs: 5000 });
  });

  it('API_BUDGET_PERCENT is read loudly: a percentage in (0, 100], or the default when unset', () => {
    assert.equal(parseApiShare(undefined), undefined);
    assert.equal(parseApiShare(' '), undefined);
    assert.equal(parseApiShare('25'), 0.25);
    assert.equal(parseApiShare('100%'), 1);
    for (const bad of ['0', '150', 'half', '-5']) assert.throws(() => parseApiShare(bad), ConfigurationError, bad);
  });
});

describe('Request budget: a rolling window', () => {
  it('its number of requests goes at once; the next when the oldest leaves the window, in order', () => {
    const window = new RollingWindow({ requests: 3, windowMs: 1000 });
    assert.deepEqual(Array.from({ length: 7 }, () => window.reserve(0)), [0, 0, 0, 1000, 1000, 1000, 2000]);
  });

  it('is empty again once idle for a window', () => {
    const window = new RollingWindow({ requests: 2, windowMs: 1000 });
    window.reserve(0);
    window.reserve(0);
    assert.deepEqual([window.reserve(60_000), window.reserve(60_000), window.reserve(60_000)], [0, 0, 1000]);
  });

  it('never lets more than its requests go in any window, and never reorders them (any arrivals, 2,000 runs)', () => {
    fc.assert(
      fc.property(
        fc.record({ requests: fc.integer({ min: 1, max: 60 }), windowMs: fc.integer({ min: 1, max: 10_000 }) }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 200 }),
        (limit, gaps) => {
          const window = new RollingWindow(limit);
          let t = 0;
          const sent = gaps.map((gap) => ((t += gap), t + window.reserve(t)));
          for (let i = 1; i < sent.length; i++) if (sent[i]! < sent[i - 1]!) return false;
          // any requests + 1 consecutive sends span at least a window
          for (let i = 0; i + limit.requests < sent.length; i++) if (sent[i + limit.requests]! - sent[i]! < limit.windowMs) return false;
          return true;
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('keeps a sustained rate of requests per window: n at once take (⌈n / requests⌉ − 1) windows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 50 }), (n, requests) => {
        const window = new RollingWindow({ requests, windowMs: 1000 });
        const last = Array.from({ length: n }, () => window.reserve(0)).at(-1)!;
        return last === (Math.ceil(n / requests) - 1) * 1000;
      }),
    );
  });
});

describe('Request budget: taken before each request an SDK client of the scope sends', () => {
  /** An EC2 client of a budgeted scope whose requests are answered here (no network): `fail` first attempts are 500s. */
  function ec2Of(budget: RequestBudget, fail = 0) {
    const client = clientOf(awsScope({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, budget }), EC2Client);
    let attempts = 0;
    (client.config as unknown as { requestHandler: unknown }).requestHandler = {
      handle: async () => {
        attempts++;
        const failing = attempts <= fail;
        const body = failing
          ? '<Response><Errors><Error><Code>InternalError</Code><Message>x</Message></Error></Errors><RequestID>r</RequestID></Response>'
          : '<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><regionInfo/></DescribeRegionsResponse>';
        return { response: new HttpResponse({ statusCode: failing ? 500 : 200, headers: { 'content-type': 'text/xml' }, body: Buffer.from(body) }) };
      },
    };
    return { client, attempts: () => attempts };
  }

  it('each attempt takes a token, retries included', async () => {
    const clock = virtualClock();
    const budget = new RequestBudget(0.5, clock);
    const { client, attempts } = ec2Of(budget, 2);
    await client.send(new DescribeRegionsCommand({}));
    assert.equal(attempts(), 3);
    // three within the ten a second 50 % of 20/s allows: none waits
    assert.deepEqual(budget.taken.get('ec2:DescribeRegions'), { requests: 3, waitedMs: 0 });
  });

  it('past its share of a second, requests wait on the clock for the window to move: at 50 % of 20/s, 10 in any second', async () => {
    const clock = virtualClock();
    const budget = new RequestBudget(0.5, clock);
    const { client } = ec2Of(budget);
    const sent: number[] = [];
    budget.onSend = (_key, at) => sent.push(at);
    for (let i = 0; i < 60; i++) await client.send(new DescribeRegionsCommand({}));
    assert.deepEqual(clock.slept, [1000, 1000, 1000, 1000, 1000]);
    assert.equal(clock.now(), 5000);
    const perSecond = new Map<number, number>();
    for (const at of sent) perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
    assert.deepEqual([...perSecond.values()], [10, 10, 10, 10, 10, 10]);
  });

  it('a scope without a budget is not paced', async () => {
    const client = clientOf(awsScope({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }), EC2Client);
    assert.ok(!client.middlewareStack.identify().some((name) => name.startsWith('requestBudget')));
  });
});
