import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CallRecord, World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { groupState, rollouts, selfManagedWorld } from './rollout-helpers.js';

/**
 * Issue 16 part 7: AMI events filtered before work. The account publishes ten AMIs within a
 * minute (Packer builds, another team's images, Windows); only one fits the selector of one
 * node group (`golden`: name prefix `acme-eks-al2023-`, owned by this account). Each event
 * costs one DescribeImages and a read of the groups' tags; together they cost one detection,
 * for `golden` alone, and one rollout. An image no group could take costs no detection.
 * Groups: `golden` (2 nodes, custom selector); `web` (EKS-optimized channel: SSM, never moved by
 * an account's AMI event); `partner` (the same prefix, but it trusts only account 999999999999);
 * `data` (selector by tag team=data).
 */
const PREFIX = 'acme-eks-al2023-';
const PARTNER = '999999999999';

describe('Scenario: a burst of AMI events costs one detection, for the groups they could move', () => {
  let world: World;
  let monitor: InvariantMonitor;
  let golden: { launchTemplateId: string; imageId: string };
  let matching: string;
  const screenings = () => world.lambda.invocations.filter((i) => i.function === 'screenImageEvent');
  const detections = () => world.lambda.invocations.filter((i) => i.function === 'detectStaleGroups');
  const detectionExecutions = () => [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-ami-detection'));
  const callsBy = (fn: string, from: number): CallRecord[] => world.account.calls.slice(from).filter((c) => c.caller === fn);
  const count = (calls: CallRecord[]) => calls.reduce<Record<string, number>>((n, c) => ({ ...n, [`${c.service}:${c.command}`]: (n[`${c.service}:${c.command}`] ?? 0) + 1 }), {});

  /** Registers an AMI as Packer or Image Builder would (pending, then available): EC2 emits `EC2 AMI State Change`. */
  const publish = (name: string, options: { ownerId?: string; tags?: Record<string, string> } = {}) => {
    const image = world.account.ec2.registerImage({
      name,
      family: 'al2023',
      kubernetesVersion: '1.31',
      ownerId: options.ownerId ?? world.model.accountId,
      state: 'pending',
      tags: [
        { Key: 'eks-node-lifecycle/ami-family', Value: 'al2023' },
        { Key: 'eks-node-lifecycle/kubernetes-version', Value: '1.31' },
        ...Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
      ],
    });
    world.account.ec2.setImageState(image.image.ImageId!, 'available');
    return image.image.ImageId!;
  };

  let burstCalls: number;
  before(async () => {
    const setup = await selfManagedWorld({ nodes: 2, name: 'golden', tags: { 'eks-node-lifecycle/max-unavailable': '1', 'eks-node-lifecycle/ami-name-prefix': PREFIX } });
    world = setup.world;
    golden = { launchTemplateId: setup.group.launchTemplateId, imageId: setup.group.imageId };
    const other = (name: string, tags: Record<string, string>) => world.account.createSelfManagedGroup({ cluster: 'prod', name, amiFamily: 'al2023', min: 0, max: 2, desired: 0, tags: { 'eks-node-lifecycle/rollout': 'auto', ...tags } });
    other('web', {});
    other('partner', { 'eks-node-lifecycle/ami-name-prefix': PREFIX, 'eks-node-lifecycle/ami-owners': PARTNER });
    other('data', { 'eks-node-lifecycle/ami-tag-team': 'data' });
    await world.settle();
    monitor = watchInvariants(world, { groups: [setup.group.autoScalingGroupName] });

    burstCalls = world.account.calls.length;
    // ten images within a minute: one every six seconds; the fifth fits golden's selector
    const names = ['packer-base-al2023-1', 'packer-base-al2023-2', 'acme-windows-2022-1', 'team-x-eks-al2023-1', '', 'packer-base-al2023-3', 'acme-eks-bottlerocket-1', 'packer-base-al2023-4', 'team-x-eks-al2023-2', 'packer-base-al2023-5'];
    for (const [i, name] of names.entries()) {
      if (name) publish(name, { tags: { team: 'platform' } });
      else matching = publish(`${PREFIX}1.31-20261121`);
      await world.run(6_000);
    }
    await world.settle();
  });
  after(() => world.stop());

  it('screens each of the ten events with one DescribeImages and the groups\' tags: no template, image search or SSM read', (t) => {
    assert.equal(screenings().length, 10);
    const calls = count(callsBy('screenImageEvent', burstCalls));
    t.diagnostic(`ten events: screenImageEvent ${JSON.stringify(calls)}; detectStaleGroups ${JSON.stringify(count(callsBy('detectStaleGroups', burstCalls)))}`);
    assert.equal(calls['ec2:DescribeImages'], 10, JSON.stringify(calls));
    for (const read of ['ec2:DescribeLaunchTemplateVersions', 'ssm:GetParameters', 'ssm:GetParameter']) assert.equal(calls[read], undefined, `${read}: ${JSON.stringify(calls)}`);
    // nine matched no group, and said why; one joined a window
    const outcomes = screenings().map((i) => (i.outcome as { result: { outcome: string } }).result.outcome);
    assert.deepEqual(outcomes.filter((o) => o === 'no-match').length, 9);
    assert.deepEqual(outcomes.filter((o) => o === 'debounced').length, 1);
    const reasons = world.logs.filter((l) => l.message === 'image event: no detection');
    assert.equal(reasons.length, 9);
    assert.ok(reasons.every((l) => JSON.stringify(l).includes('web: no custom image selector')), JSON.stringify(reasons[0]));
  });

  it('runs exactly one detection, once the window has passed, for golden alone', () => {
    assert.equal(detectionExecutions().length, 1);
    assert.equal(detectionExecutions()[0]!.status, 'SUCCEEDED');
    assert.equal(detections().length, 1);
    const [detection] = detections();
    assert.equal((detection!.payload as { kind: string }).kind, 'debounced-detection');
    const result = (detection!.outcome as { result: { plans: { group: string; action: string }[] } }).result;
    assert.deepEqual(result.plans.map((p) => [p.group, p.action]), [['golden', 'roll']]);
    // the partner group's prefix fits, its owner does not (ami-owners 999999999999)
    const screened = screenings().find((i) => (i.outcome as { result: { outcome: string } }).result.outcome === 'debounced')!;
    assert.deepEqual((screened.outcome as { result: { groups: unknown } }).result.groups, [{ cluster: 'prod', group: 'golden' }]);
  });

  it('starts one rollout, which rolls golden onto the matching image', async () => {
    const all = rollouts(world);
    assert.equal(all.length, 1);
    assert.equal(JSON.parse(all[0]!.input).group.name, 'golden');
    assert.equal(all[0]!.status, 'SUCCEEDED', `${all[0]!.error} ${all[0]!.cause}`);
    const images = [...(await groupState('golden')).images.values()];
    assert.ok(images.length === 2 && images.every((image) => image === matching), `${images.join(' ')} (from ${golden.imageId})`);
  });

  it('an image no group could take costs one DescribeImages, the groups\' tags, and no detection', async () => {
    const from = world.account.calls.length;
    const executions = detectionExecutions().length;
    publish('team-y-eks-al2023-20261122');
    await world.settle();
    const last = screenings().at(-1)!;
    assert.equal((last.outcome as { result: { outcome: string } }).result.outcome, 'no-match');
    assert.equal(detectionExecutions().length, executions);
    assert.equal(detections().length, 1);
    const calls = count(callsBy('screenImageEvent', from));
    assert.equal(calls['ec2:DescribeImages'], 1, JSON.stringify(calls));
    assert.deepEqual(Object.keys(calls).sort(), ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeImages', 'eks:ListClusters', 'eks:ListNodegroups'], JSON.stringify(calls));
    const reason = world.logs.filter((l) => l.message === 'image event: no detection').at(-1)!;
    assert.match(JSON.stringify(reason), /golden: name does not start with acme-eks-al2023-/);
    assert.match(JSON.stringify(reason), /data: lacks tag team=data/);
  });

  it('an Image Builder image: its output AMIs, found by their Ec2ImageBuilderArn tag in one DescribeImages, move the group whose tags they carry', async () => {
    const from = world.account.calls.length;
    const arn = `arn:aws:imagebuilder:${world.model.region}:${world.model.accountId}:image/data-eks-al2023/1.0.4/1`;
    // Image Builder tags its output AMIs (https://docs.aws.amazon.com/imagebuilder/latest/userguide/tag-resources.html)
    const output = world.account.ec2.registerImage({
      name: 'data-eks-al2023-1.0.4',
      family: 'al2023',
      kubernetesVersion: '1.31',
      ownerId: world.model.accountId,
      tags: [{ Key: 'Ec2ImageBuilderArn', Value: arn }, { Key: 'CreatedBy', Value: 'EC2 Image Builder' }, { Key: 'team', Value: 'data' }, { Key: 'eks-node-lifecycle/kubernetes-version', Value: '1.31' }],
    }).image.ImageId!;
    world.put(world.bus.envelope({ source: 'aws.imagebuilder', 'detail-type': 'EC2 Image Builder Image State Change', resources: [arn], detail: { 'previous-state': { status: 'DISTRIBUTING' }, state: { status: 'AVAILABLE' } } }));
    await world.settle();
    const screened = (screenings().at(-1)!.outcome as { result: { outcome: string; images: string[]; groups: unknown } }).result;
    assert.deepEqual([screened.outcome, screened.images, screened.groups], ['debounced', [output], [{ cluster: 'prod', group: 'data' }]]);
    assert.equal(count(callsBy('screenImageEvent', from))['ec2:DescribeImages'], 1);
    const detection = detections().at(-1)!;
    assert.deepEqual((detection.outcome as { result: { plans: { group: string }[] } }).result.plans.map((p) => p.group), ['data']);
    assert.equal(detectionExecutions().length, 2);
  });

  it('ends with every invariant held: budgets, capacity, no lock or drain left', async () => {
    await monitor.assertHeld({ groups: [{ name: 'golden', floor: 1 }] });
  });
});
