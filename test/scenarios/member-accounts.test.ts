import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type BudgetMonitor,
  type ChatDriver,
  chatParams,
  createDeployment,
  createPdb,
  releaseAmi,
  SANDBOX_SLACK,
  setupChat,
  type SimAccount,
  type SimCluster,
  type SlackReceiver,
  startSandboxSlack,
  watchBudgets,
  World,
} from '@eks-node-lifecycle/sandbox';
import type { Place } from '../../shared/aws/places.js';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';

/**
 * Issue 20 end to end: one hub serving two member accounts, IAM enforced on every call (the hub
 * roles and, in the members, the member roles of deploy/member-account.yml, reached through
 * AssumeRole with the ExternalId). Three clusters in two regions, two of them named `prod`:
 * - the hub's own `staging` (eu-west-1);
 * - member A's `prod` (eu-west-1), member B's `prod` (us-east-1).
 * A lifecycle-hook drain in member A; one detection across all three places, which starts a
 * rollout in each; `status` in chat listing every account's clusters; then member B's roles are
 * deleted: the next detection reports B and goes on with the others.
 */
const HUB = '111122223333';
const A = '444455556666';
const B = '777788889999';
const hubPlace: Place = { accountId: HUB, region: 'eu-west-1' };
const aPlace: Place = { accountId: A, region: 'eu-west-1' };
const bPlace: Place = { accountId: B, region: 'us-east-1' };
const SRE = 'U0SRE';

interface Site {
  place: Place;
  account: SimAccount;
  cluster: SimCluster;
  group: string;
  budgets: BudgetMonitor;
}

interface DetectionResult {
  plans: { cluster: string; group: string; action: string; accountId?: string; region?: string }[];
  started: { cluster: string; group: string; executionName: string; alreadyRunning: boolean; accountId?: string; region?: string }[];
  unreachable?: { accountId: string; region: string; reason: string }[];
}

describe('Scenario: one hub, two member accounts, three clusters (two named prod)', () => {
  let receiver: SlackReceiver;
  let world: World;
  let chat: ChatDriver;
  let monitor: InvariantMonitor;
  const sites: Site[] = [];
  const site = (place: Place) => sites.find((s) => s.place.accountId === place.accountId && s.place.region === place.region)!;

  const imagesOf = (s: Site) => {
    const group = s.account.autoscaling.group(s.group);
    return [...group.instances.keys()].map((id) => s.account.ec2.instances.get(id)?.instance.ImageId);
  };
  const ask = async (text: string): Promise<string> => {
    const out = await chat.slash(SRE, text);
    await world.run(20_000);
    return chat.responses(out.responseUrl).map((m) => m.text).join('\n');
  };

  before(async () => {
    receiver = await startSandboxSlack();
    world = await World.start({ members: [{ accountId: A, regions: ['eu-west-1'] }, { accountId: B, regions: ['us-east-1'] }], params: chatParams(receiver) });
    for (const [place, name, group] of [
      [hubPlace, 'staging', 'staging-nodes'],
      [aPlace, 'prod', 'prod-a-nodes'],
      [bPlace, 'prod', 'prod-b-nodes'],
    ] as const) {
      const cluster = await world.addCluster(name, { version: '1.31', place });
      const account = world.accountAt(place);
      account.seedVpc();
      account.createSelfManagedGroup({
        cluster: name,
        name: group,
        amiFamily: 'al2023',
        min: 2,
        max: 4,
        desired: 3,
        launchTemplateVersion: '1',
        tags: { 'eks-node-lifecycle/rollout': 'auto', 'eks-node-lifecycle/drain': 'on', 'eks-node-lifecycle/max-unavailable': '1' },
        hooks: { terminate: { name: 'eks-node-lifecycle-drain', heartbeatTimeout: 600, defaultResult: 'CONTINUE' } },
      });
      sites.push({ place, account, cluster, group, budgets: watchBudgets(cluster.store) });
    }
    await world.settle();
    for (const s of sites) {
      createDeployment(s.cluster.store, { namespace: 'shop', name: 'web', replicas: 6, labels: { app: 'web' } });
      createPdb(s.cluster.store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, maxUnavailable: 1 });
    }
    await world.run(60_000);
    // every place's clusters, groups, hooks and terminations (fault-invariants.ts)
    monitor = watchInvariants(world);
    chat = setupChat(world, receiver, {
      groups: { sre: [`slack:${SANDBOX_SLACK.team}:${SRE}`] },
      // a bare name or `*` is the hub's own clusters only; the members' are named by place
      clusters: Object.fromEntries(
        ['staging', `${A}/eu-west-1/prod`, `${B}/us-east-1/prod`].map((key) => [key, { read: ['group:sre'], act: ['group:sre'], approve: ['group:sre'], notify: SANDBOX_SLACK.channel, requireApproval: false }]),
      ),
    });
  });

  after(async () => {
    await world?.stop();
    await receiver?.close();
  });

  it('joins every place\'s nodes to its own cluster: two `prod` clusters, neither sees the other\'s nodes', () => {
    for (const s of sites) {
      const nodes = s.cluster.store.list('nodes') as { spec: { providerID: string } }[];
      const instances = [...s.account.autoscaling.group(s.group).instances.keys()];
      assert.equal(nodes.length, 3, `${s.cluster.key}`);
      assert.deepEqual(nodes.map((n) => n.spec.providerID.split('/').at(-1)).sort(), instances.sort(), `${s.cluster.key}: its own instances`);
      assert.ok(nodes.every((n) => n.spec.providerID.includes(`aws:///${s.place.region}`)), `${s.cluster.key}: in ${s.place.region}`);
    }
  });

  it('drains a node of member A on its terminate lifecycle hook, acting in member A only, and completes the hook once', async () => {
    const a = site(aPlace);
    const [instanceId] = [...a.account.autoscaling.group(a.group).instances.keys()];
    const hubCallsBefore = world.account.calls.length;
    a.account.autoscaling.terminateInstanceInAutoScalingGroup({ InstanceId: instanceId!, ShouldDecrementDesiredCapacity: true });
    await world.settle();
    const drain = [...world.stepFunctions.executions.values()].find((e) => e.stateMachineArn.endsWith('-node-drain'));
    assert.ok(drain, 'a node-drain execution');
    assert.equal(drain.name, `drain-${A}-eu-west-1-${instanceId}-0`, 'named after the member\'s place');
    assert.equal(drain.status, 'SUCCEEDED', drain.error);
    const completions = a.account.calls.filter((c) => c.command === 'CompleteLifecycleAction' && !c.error);
    assert.equal(completions.length, 1, 'completed once, in member A');
    assert.equal((completions[0]!.input as { LifecycleActionResult: string }).LifecycleActionResult, 'CONTINUE');
    assert.ok(!world.account.calls.slice(hubCallsBefore).some((c) => c.command === 'CompleteLifecycleAction'), 'nothing completed in the hub');
    assert.ok(!(a.cluster.store.list('pods') as { spec: { nodeName?: string }; metadata: { namespace: string } }[]).some((p) => p.metadata.namespace === 'shop' && p.spec.nodeName?.includes(instanceId!)), 'the node left no pod behind');
    assert.equal(a.account.ec2.instances.get(instanceId!)?.instance.State?.Name, 'terminated');
    assert.deepEqual(a.budgets.violations, []);
    assert.equal(site(bPlace).account.calls.filter((c) => c.command === 'CompleteLifecycleAction').length, 0, 'member B untouched');
  });

  it('detects across the hub and both members in one run, and starts a rollout in each place', async () => {
    const released = new Map(sites.map((s) => [s, releaseAmi(s.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201' }).image.ImageId!]));
    const result = (await world.runSchedule('detectStaleGroups', { kind: 'scheduled-detection' })) as DetectionResult;
    const rolls = result.plans.filter((p) => p.action === 'roll').map((p) => `${p.accountId ?? 'hub'}/${p.region ?? 'hub'}/${p.cluster}/${p.group}`).sort();
    assert.deepEqual(rolls, [`${A}/eu-west-1/prod/prod-a-nodes`, `${B}/us-east-1/prod/prod-b-nodes`, 'hub/hub/staging/staging-nodes']);
    assert.equal(result.started.length, 3);
    assert.equal(new Set(result.started.map((s) => s.executionName)).size, 3, 'three executions, none colliding');
    assert.deepEqual(result.unreachable ?? [], []);
    await world.settle();
    const rollouts = [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-ami-rollout'));
    assert.equal(rollouts.length, 3);
    for (const r of rollouts) assert.equal(r.status, 'SUCCEEDED', `${r.name}: ${r.error ?? ''}`);
    for (const s of sites) {
      const images = imagesOf(s);
      assert.ok(images.length >= 2, `${s.cluster.key}: nodes left`);
      assert.deepEqual([...new Set(images)], [released.get(s)], `${s.cluster.key}: every node on the release of its own region`);
      assert.deepEqual(s.budgets.violations, [], `${s.cluster.key}: no budget violated`);
    }
    // each member's group was changed as that member's role, never as the hub's
    assert.ok(site(aPlace).account.calls.some((c) => c.command === 'CreateLaunchTemplateVersion' && !c.error));
    assert.ok(site(bPlace).account.calls.some((c) => c.command === 'CreateLaunchTemplateVersion' && !c.error));
    assert.equal(world.iam.counts.denied, 0, world.iam.summary());
  });

  it('chat `status` lists the clusters of all three accounts, and `status prod` asks which one', async () => {
    const status = await ask('status');
    for (const label of [`${A}/eu-west-1`, `${B}/us-east-1`]) assert.match(status, new RegExp(label), status);
    assert.match(status, /staging/);
    assert.equal((status.match(/\bprod\b/g) ?? []).length >= 2, true, status);
    assert.match(await ask('status prod'), /prod is in 2 places/);
    assert.match(await ask(`status ${B}/us-east-1/prod`), /prod-b-nodes/);
  });

  it('reports a member whose roles were deleted, per account, and goes on with the others', async () => {
    world.expectDenials();
    world.deleteMemberRole(bPlace);
    releaseAmi(site(aPlace).account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261215' });
    const result = (await world.runSchedule('detectStaleGroups', { kind: 'scheduled-detection' })) as DetectionResult;
    assert.deepEqual(result.unreachable?.map((u) => `${u.accountId}/${u.region}`), [`${B}/us-east-1`]);
    assert.match(result.unreachable![0]!.reason, /AssumeRole|sandbox-DetectStaleGroups-us-east-1/);
    assert.deepEqual(result.plans.filter((p) => p.action === 'roll').map((p) => `${p.accountId}/${p.cluster}`), [`${A}/prod`], 'member A still detected and rolled');
    assert.ok(world.published.some((e) => e['detail-type'] === 'Member Accounts Unreachable'), 'published once');
    await world.settle();
    const status = await ask('status');
    assert.match(status, new RegExp(`${B}/us-east-1`), status);
    assert.match(status, /reach/i, 'B shown as unreachable');
    // the only denials: member B's, its sessions' requests once their role was gone (IAM evaluates a
    // session's permissions at each request) or AssumeRole of the deleted roles
    assert.ok(world.iam.denials.length > 0);
    for (const d of world.iam.denials) assert.ok(d.member === `${B}/us-east-1` || `${d.request.action} ${d.request.resource}`.includes(`sts:AssumeRole arn:aws:iam::${B}:`), JSON.stringify(d));
  });

  it('ends on the invariant monitor, in every place: no budget violated, no node terminated with pods to evict, every hook completed once, groups consistent, locks released', async () => {
    await world.settle();
    await monitor.assertHeld({
      groups: [
        { name: 'staging-nodes', floor: 2 },
        // member A's group lost a node to the scale-in above (ShouldDecrementDesiredCapacity)
        { name: 'prod-a-nodes', place: aPlace, floor: 1, sizes: { desired: 2 } },
        { name: 'prod-b-nodes', place: bPlace, floor: 2 },
      ],
    });
  });
});
