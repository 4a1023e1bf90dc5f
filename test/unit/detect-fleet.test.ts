import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, DescribeNodegroupCommand, EKSClient, ListClustersCommand, ListNodegroupsCommand } from '@aws-sdk/client-eks';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { replyForEvent } from '../../shared/chatops/event-replies.js';
import { type AwsScope, awsScope } from '../../shared/aws/clients.js';
import { type Place, placeKey } from '../../shared/aws/places.js';
import type { FleetPlace } from '../../shared/config/member-accounts.js';
import { DETECTIONS_AT_ONCE, type DetectionPorts, detectStaleGroups, PLACES_AT_ONCE, planFleet } from '../../shared/detect/detect.js';
import { loadServerlessModel } from '@eks-node-lifecycle/sandbox';
import { groupOfWindowKey, windowKeyOf } from '../../shared/detect/detection-windows.js';
import { screenImages } from '../../shared/detect/image-match.js';
import { memberPlaceOf, rolloutExecutionName, rolloutInputOf } from '../../shared/detect/plan-rollouts.js';
import { MemberAccessError } from '../../shared/errors.js';
import { MEMBER_UNREACHABLE, MemberUnreachableDetailSchema } from '../../shared/events/member-unreachable.js';
import { RolloutInputSchema } from '../../shared/events/rollout.js';

/**
 * Detection across the fleet (detect.ts planFleet / detectStaleGroups): every member account ×
 * region × cluster, each place in its own scope with its own cluster allow-list; a member that
 * cannot be reached is reported and the others go on; a few places at a time. The SDK is mocked;
 * each call answers for the place its client belongs to (the client's region, and the account
 * its credentials name: the test's scopes carry the account id as the access key).
 */

const HUB = '111122223333';
const A = '444455556666';
const B = '777788889999';
const C = '222233334444';
const NOW = new Date('2026-12-07T10:00:00.000Z');
const OLD_RELEASE = '1.31.1-20261001';
const NEW_RELEASE = '1.31.3-20261201';
const imageIdOf = (region: string) => (region === 'eu-west-1' ? 'ami-0aaaaaaaaaaaaaaa1' : 'ami-0bbbbbbbbbbbbbbb2');

const fleet: FleetPlace[] = [
  { place: { accountId: HUB, region: 'eu-west-1' }, clusters: '*', home: true },
  { place: { accountId: A, region: 'eu-west-1' }, clusters: ['prod'], home: false },
  { place: { accountId: A, region: 'us-east-1' }, clusters: ['prod'], home: false },
  // AssumeRole refused (no member stack)
  { place: { accountId: B, region: 'eu-west-1' }, clusters: '*', home: false },
  // an SCP denies eks:ListClusters
  { place: { accountId: C, region: 'eu-west-1' }, clusters: '*', home: false },
];

/** Which clusters each place has (before the allow-list), by placeKey. */
const CLUSTERS: Record<string, string[]> = {
  [`${HUB}/eu-west-1`]: ['prod'],
  [`${A}/eu-west-1`]: ['prod', 'sandbox'],
  [`${A}/us-east-1`]: ['prod'],
};

/** The scope of a place, as PlaceScopes would give it; B's credentials are refused as an AssumeRole refusal would be. */
function scopes() {
  const made = new Map<string, AwsScope>();
  const scopeOf = (place?: Partial<Place>): AwsScope => {
    const accountId = place?.accountId || HUB;
    const region = place?.region ?? 'eu-west-1';
    const key = `${accountId}/${region}`;
    if (!made.has(key)) {
      made.set(
        key,
        awsScope({
          region,
          accountId,
          credentials: async () => {
            if (accountId === B) throw new MemberAccessError(B, region, `arn:aws:iam::${B}:role/eks-node-lifecycle/dev-DetectStaleGroups-${region}`, 'AccessDenied: not authorized to perform sts:AssumeRole');
            return { accessKeyId: accountId, secretAccessKey: 'x' };
          },
        }),
      );
    }
    return made.get(key)!;
  };
  return { scopeOf, made };
}

const eks = mockClient(EKSClient);
const ec2 = mockClient(EC2Client);
const autoscaling = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const mocks = [eks, ec2, autoscaling, ssm, sfn];

/** The place a mocked call was made in: its client's region and its credentials' account. */
async function placeOf(getClient: () => { config: unknown }): Promise<string> {
  const config = getClient().config as { region: () => Promise<string>; credentials: () => Promise<{ accessKeyId: string }> };
  const credentials = await config.credentials();
  return `${credentials.accessKeyId}/${await config.region()}`;
}

/** Every call, with the place it went to (what `calls[]` of a per-place sandbox account would hold). */
const calls: { place: string; command: string }[] = [];

function answerPerPlace(): void {
  const on = (mock: (typeof mocks)[number], command: abstract new (...args: never[]) => unknown, answer: (input: any, place: string) => unknown) =>
    (mock as any).on(command).callsFake(async (input: unknown, getClient: () => { config: unknown }) => {
      const place = await placeOf(getClient);
      calls.push({ place, command: (command as { name: string }).name.replace(/Command$/, '') });
      return answer(input, place);
    });
  on(eks, ListClustersCommand, (_input, place) => {
    if (place.startsWith(C)) throw Object.assign(new Error(`User: arn:aws:sts::${C}:assumed-role/x is not authorized to perform: eks:ListClusters with an explicit deny in a service control policy`), { name: 'AccessDeniedException' });
    return { clusters: CLUSTERS[place] ?? [] };
  });
  on(eks, DescribeClusterCommand, (input: { name: string }) => ({ cluster: { name: input.name, endpoint: `https://${input.name}.example`, version: '1.31', certificateAuthority: { data: 'Y2E=' }, kubernetesNetworkConfig: { serviceIpv4Cidr: '172.20.0.0/16' } } }));
  on(eks, ListNodegroupsCommand, () => ({ nodegroups: ['ng'] }));
  on(eks, DescribeNodegroupCommand, (input: { clusterName: string; nodegroupName: string }, place) => ({
    nodegroup: {
      nodegroupName: input.nodegroupName,
      clusterName: input.clusterName,
      nodegroupArn: `arn:aws:eks:${place.split('/')[1]}:${place.split('/')[0]}:nodegroup/${input.clusterName}/${input.nodegroupName}/x`,
      amiType: 'AL2023_x86_64_STANDARD',
      releaseVersion: OLD_RELEASE,
      version: '1.31',
      resources: { autoScalingGroups: [{ name: `eks-${input.nodegroupName}` }] },
      scalingConfig: { desiredSize: 2, minSize: 1, maxSize: 3 },
      tags: { 'eks-node-lifecycle/rollout': 'auto' },
    },
  }));
  on(autoscaling, DescribeAutoScalingGroupsCommand, () => ({ AutoScalingGroups: [] }));
  on(ssm, GetParametersCommand, (input: { Names: string[] }, place) => ({
    Parameters: input.Names.map((Name) => ({ Name, Value: Name.endsWith('release_version') ? NEW_RELEASE : imageIdOf(place.split('/')[1]!) })),
  }));
  on(ec2, DescribeImagesCommand, (input: { ImageIds?: string[] }) => ({
    Images: (input.ImageIds ?? []).map((ImageId) => ({ ImageId, Name: 'amazon-eks-node-al2023-x86_64-standard-1.31-v20261201', OwnerId: '602401143452', ImageOwnerAlias: 'amazon', State: 'available', CreationDate: '2026-12-01T00:00:00.000Z' })),
  }));
  on(sfn, StartExecutionCommand, (input: { name: string }) => ({ executionArn: `arn:aws:states:eu-west-1:${HUB}:execution:ami-rollout:${input.name}`, startDate: NOW }));
}

const published: { detailType: string; detail: unknown }[] = [];
const logged: { message: string; attributes?: Record<string, unknown> }[] = [];

function ports(places = scopes()): DetectionPorts {
  return {
    aws: places.scopeOf(),
    places,
    fleet,
    amiRolloutStateMachineArn: `arn:aws:states:eu-west-1:${HUB}:stateMachine:ami-rollout`,
    now: () => NOW,
    log: (message, attributes) => void logged.push({ message, ...(attributes ? { attributes } : {}) }),
    windows: { close: async () => ({ groups: [], images: [] }) },
    publish: async (detailType, detail) => void published.push({ detailType, detail }),
    announce: { claim: async () => false, release: async () => undefined, publish: async () => undefined },
  };
}

describe('Detection across the fleet', () => {
  beforeEach(() => {
    mocks.forEach((m) => m.reset());
    calls.length = 0;
    published.length = 0;
    logged.length = 0;
    answerPerPlace();
  });
  afterEach(() => mocks.forEach((m) => m.reset()));

  it('plans every cluster of every reachable place, in that place, within its allow-list', async () => {
    const { plans, groups } = await planFleet(ports());
    assert.deepEqual(
      plans.map((p) => [p.accountId ?? '(hub)', p.region ?? '(hub)', p.cluster, p.group, p.action]),
      [
        ['(hub)', '(hub)', 'prod', 'ng', 'roll'],
        [A, 'eu-west-1', 'prod', 'ng', 'roll'],
        [A, 'us-east-1', 'prod', 'ng', 'roll'],
      ],
    );
    // A's `sandbox` cluster is not on its allow-list: never described
    assert.ok(!eks.commandCalls(DescribeClusterCommand).some((c) => c.args[0].input.name === 'sandbox'));
    // every group knows its place; the hub's is the hub's own
    assert.deepEqual(groups.map((g) => [placeKey(g.place), g.home]), [[`${HUB}/eu-west-1`, true], [`${A}/eu-west-1`, false], [`${A}/us-east-1`, false]]);
    // each place's calls went to that place: its own SSM parameters and images (AMI ids are regional)
    const targetOf = (region: string) => plans.find((p) => (p.region ?? 'eu-west-1') === region && p.action === 'roll');
    assert.equal((targetOf('us-east-1') as { to: { imageId: string } } | undefined)?.to.imageId, imageIdOf('us-east-1'));
    assert.ok(calls.some((c) => c.place === `${A}/us-east-1` && c.command === 'GetParameters'));
    assert.ok(calls.some((c) => c.place === `${A}/us-east-1` && c.command === 'DescribeNodegroup'));
  });

  it('reports a member whose role cannot be assumed, and one an SCP denies, per account and region, and goes on with the others', async () => {
    const { plans, unreachable } = await planFleet(ports());
    assert.equal(plans.length, 3);
    assert.deepEqual(unreachable.map((u) => [u.accountId, u.region]), [[B, 'eu-west-1'], [C, 'eu-west-1']]);
    assert.match(unreachable[0]!.reason, /AssumeRole .* was refused/);
    assert.match(unreachable[1]!.reason, /^AccessDeniedException: .*service control policy/);
    assert.deepEqual(logged.filter((l) => l.message === 'member place unreachable').map((l) => l.attributes!.place), [`${B}/eu-west-1`, `${C}/eu-west-1`]);
  });

  it("fails as before when the hub's own place is denied: that is the deployment's own role", async () => {
    eks.on(ListClustersCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await assert.rejects(planFleet(ports()), { name: 'AccessDeniedException' });
  });

  it('an error that is not an access refusal is not mistaken for an unreachable member', async () => {
    ssm.on(GetParametersCommand).rejects(Object.assign(new Error('boom'), { name: 'ValidationException' }));
    await assert.rejects(planFleet({ ...ports(), fleet: fleet.slice(1, 2) }), { name: 'ValidationException' });
  });

  it(`plans at most ${PLACES_AT_ONCE} places at once`, async () => {
    const many: FleetPlace[] = Array.from({ length: 10 }, (_, i) => ({ place: { accountId: A, region: `eu-west-${i + 1}` }, clusters: '*', home: false }));
    let inFlight = 0;
    let peak = 0;
    eks.on(ListClustersCommand).callsFake(async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { clusters: [] };
    });
    const { plans } = await planFleet({ ...ports(), fleet: many });
    assert.equal(plans.length, 0);
    assert.equal(eks.commandCalls(ListClustersCommand).length, 10);
    assert.equal(peak, PLACES_AT_ONCE);
  });

  it("starts each stale group's rollout with its place; the hub's input and name are what they always were", async () => {
    const result = await detectStaleGroups({ kind: 'scheduled-detection' }, ports());
    const inputs = sfn.commandCalls(StartExecutionCommand).map((c) => ({ name: c.args[0].input.name!, input: JSON.parse(c.args[0].input.input!) as Record<string, unknown> }));
    assert.equal(inputs.length, 3);
    const hub = inputs.find((i) => i.input.accountId === undefined)!;
    assert.equal(hub.input.region, undefined);
    assert.equal(hub.name, rolloutExecutionName('prod', 'ng', { imageId: imageIdOf('eu-west-1') }));
    const members = inputs.filter((i) => i.input.accountId === A);
    assert.deepEqual(members.map((m) => m.input.region).sort(), ['eu-west-1', 'us-east-1']);
    // three rollouts of prod/ng, three names
    assert.equal(new Set(inputs.map((i) => i.name)).size, 3);
    for (const { input } of inputs) RolloutInputSchema.parse(input);
    assert.deepEqual(result.started.map((s) => s.accountId ?? '(hub)').sort(), ['(hub)', A, A].sort());
    assert.deepEqual(result.unreachable?.map((u) => placeKey(u)), [`${B}/eu-west-1`, `${C}/eu-west-1`]);
    // the unreachable members: one event, its schema's, that chat renders
    const events = published.filter((p) => p.detailType === MEMBER_UNREACHABLE);
    assert.equal(events.length, 1);
    const detail = MemberUnreachableDetailSchema.parse(events[0]!.detail);
    assert.deepEqual(detail.unreachable.map((u) => u.accountId), [B, C]);
    assert.match(JSON.stringify(replyForEvent(MEMBER_UNREACHABLE, detail)), /777788889999\/eu-west-1/);
  });

  it('a dry run reports the unreachable members and publishes nothing', async () => {
    const result = await detectStaleGroups({ kind: 'detect', dryRun: true }, ports());
    assert.equal(result.unreachable?.length, 2);
    assert.equal(published.length, 0);
    assert.equal(sfn.commandCalls(StartExecutionCommand).length, 0);
  });

  it("a person's detect may name an account and region: only that place is read", async () => {
    const result = await detectStaleGroups({ kind: 'detect', dryRun: true, accountId: A, region: 'us-east-1' }, ports());
    assert.deepEqual(result.plans.map((p) => [p.accountId, p.region]), [[A, 'us-east-1']]);
    assert.ok(calls.every((c) => c.place === `${A}/us-east-1`));
  });

  it("a debounced detection reads only its window's groups, each in its own place", async () => {
    const windows = { close: async () => ({ groups: [{ cluster: 'prod', group: 'ng' }, { accountId: A, region: 'us-east-1', cluster: 'prod', group: 'ng' }], images: [] }) };
    const result = await detectStaleGroups({ kind: 'debounced-detection', window: '20261207T095900Z' }, { ...ports(), windows });
    assert.deepEqual(result.plans.map((p) => [p.accountId ?? '(hub)', p.region ?? '(hub)']), [['(hub)', '(hub)'], [A, 'us-east-1']]);
    // neither A's eu-west-1 nor the unreachable members were asked anything
    assert.deepEqual([...new Set(calls.map((c) => c.place))].sort(), [`${HUB}/eu-west-1`, `${A}/us-east-1`]);
    assert.equal(result.unreachable, undefined);
  });
});

describe('Where a group is, on what leaves detection', () => {
  const to = { imageId: 'ami-0123456789abcdef0' };

  it("execution names: the hub's unchanged; a member's differs per place, and stays within Step Functions' rules", () => {
    assert.equal(rolloutExecutionName('prod', 'ng', to), rolloutExecutionName('prod', 'ng', to, undefined));
    const names = [undefined, { accountId: A, region: 'eu-west-1' }, { accountId: A, region: 'us-east-1' }, { accountId: B, region: 'eu-west-1' }].map((place) => rolloutExecutionName('prod', 'ng', to, place));
    assert.equal(new Set(names).size, 4);
    const long = rolloutExecutionName('c'.repeat(100), 'g/'.repeat(200), to, { accountId: A, region: 'ap-southeast-2' });
    for (const name of [...names, long]) assert.match(name, /^[A-Za-z0-9_-]{1,80}$/);
    // a long member name still ends with the full 12-hex hash (the slugs give way)
    assert.match(long, /-[0-9a-f]{12}$/);
    assert.equal(long.length, 80);
  });

  it('memberPlaceOf reads a rollout request: the hub (no place fields) is undefined', () => {
    assert.equal(memberPlaceOf({}), undefined);
    assert.deepEqual(memberPlaceOf({ accountId: A, region: 'eu-west-1' }), { accountId: A, region: 'eu-west-1' });
  });

  it("rolloutInputOf: a member's input names its place, the hub's has no place fields", () => {
    const plan = { cluster: 'prod', group: 'ng', kind: 'managed' as const, action: 'roll' as const, mode: 'auto' as const, from: {}, to, reason: 'r' };
    const group = (home: boolean) => ({ kind: 'managed' as const, name: 'ng', place: { accountId: home ? HUB : A, region: 'us-east-1' }, home });
    assert.deepEqual(Object.keys(rolloutInputOf(group(true), plan)), ['cluster', 'group', 'target', 'from', 'mode']);
    assert.deepEqual(rolloutInputOf(group(false), plan), { accountId: A, region: 'us-east-1', cluster: 'prod', group: { kind: 'managed', name: 'ng' }, target: to, from: {}, mode: 'auto' });
  });

  it("window keys: the hub's as before (cluster/group), a member's with its place, read back whatever the group's name holds", () => {
    assert.equal(windowKeyOf({ cluster: 'prod', group: 'ng' }), 'prod/ng');
    for (const ref of [{ cluster: 'prod', group: 'a/b' }, { accountId: A, region: 'eu-west-1', cluster: 'prod', group: 'a/b/c' }, { accountId: A, region: 'us-east-1', cluster: '123456789012', group: '@x' }]) {
      assert.deepEqual(groupOfWindowKey(windowKeyOf(ref)), ref);
    }
  });

  it("screening names a member's matching group with its place, the hub's without", () => {
    const image = { ImageId: 'ami-0123456789abcdef0', OwnerId: A, State: 'available' as const };
    const tags = { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/channel': 'pinned=ami-0123456789abcdef0' };
    const { matched } = screenImages([image], [
      { cluster: 'prod', kind: 'managed', name: 'ng', tags },
      { place: { accountId: A, region: 'eu-west-1' }, cluster: 'prod', kind: 'managed', name: 'ng', tags },
    ]);
    assert.deepEqual(matched, [{ cluster: 'prod', group: 'ng' }, { accountId: A, region: 'eu-west-1', cluster: 'prod', group: 'ng' }]);
  });
});

describe('Detection: the API budget split between the detections that may run at once', () => {
  it("DETECTIONS_AT_ONCE is detectStaleGroups' reserved concurrency in serverless.yml: together they stay within the share", () => {
    const fn = loadServerlessModel({ params: { managedClusters: '*' } }).functions.find((f) => f.key === 'detectStaleGroups')!;
    assert.equal(fn.reservedConcurrency, DETECTIONS_AT_ONCE);
  });
});
