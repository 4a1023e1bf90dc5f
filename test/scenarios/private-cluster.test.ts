import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { KubeClients } from '../../shared/kube/client.js';
import { EksTokenCache } from '../../shared/kube/eks-token.js';
import { CONNECT_TIMEOUT_MS, hasKubectl, kubectl, type SimAccount, World } from '@eks-node-lifecycle/sandbox';
import { type InvariantMonitor, watchInvariants } from './fault-invariants.js';
import { awsScope } from '../../shared/aws/clients.js';

/**
 * A cluster whose API endpoint is private (public access off), scaled out through a launch
 * hook: deployed without the vpc params the service's functions run outside the VPC, cannot
 * reach the API, and the node-join workflow can only leave the hook to its default result;
 * deployed with them (the seeded VPC's subnets), the nodes join and the hooks are completed with
 * CONTINUE. Each run ends on the invariant monitor.
 */
const region = 'eu-west-1';
const HEARTBEAT_S = 600;
const GROUP = 'private-workers';

/** the params a deploy into the cluster's VPC passes: its subnets, and a security group of it */
const inTheVpc = (account: SimAccount) => {
  const vpc = account.seedVpc();
  return { vpcSubnetIds: vpc.subnets.map((s) => s.subnetId).join(','), vpcSecurityGroupIds: account.ec2.defaultSecurityGroup(vpc.vpcId) };
};

interface Run {
  world: World;
  monitor: InvariantMonitor;
  launched: string[];
  /** instances whose node was Ready at some point */
  everReady: Set<string>;
}

/** A private cluster, a self-managed group with a launch hook, scaled from 0 to 2; the world runs `ms`. */
async function scaleOut(world: World, defaultResult: 'ABANDON' | 'CONTINUE', ms: number): Promise<Run> {
  const cluster = await world.addCluster('prod', { endpoint: 'private' });
  const everReady = new Set<string>();
  cluster.store.on((event) => {
    const node = event.object as { spec?: { providerID?: string }; status?: { conditions?: { type: string; status: string }[] } };
    if (event.resource === 'nodes' && node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) everReady.add(node.spec!.providerID!.split('/').at(-1)!);
  });
  world.account.createSelfManagedGroup({
    cluster: 'prod',
    name: GROUP,
    min: 0,
    max: 4,
    desired: 0,
    hooks: { launch: { name: 'eks-node-lifecycle-launch', heartbeatTimeout: HEARTBEAT_S, defaultResult } },
  });
  await world.settle();
  const monitor = watchInvariants(world, { groups: [GROUP] });
  world.timeline.add('scenario', `operator scales ${GROUP} from 0 to 2 (launch hook: heartbeat ${HEARTBEAT_S} s, default result ${defaultResult})`);
  await new AutoScalingClient({ region }).send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 2 }));
  await world.run(ms);
  const launched = world.account.events.filter((e) => e['detail-type'] === 'EC2 Instance-launch Lifecycle Action').map((e) => (e.detail as { EC2InstanceId: string }).EC2InstanceId);
  return { world, monitor, launched, everReady };
}

const joins = (world: World) => [...world.stepFunctions.executions.values()].filter((e) => e.stateMachineArn.endsWith('-node-join'));
const completions = (world: World) => world.account.calls.filter((c) => c.command === 'CompleteLifecycleAction');
const checks = (world: World) => world.lambda.invocations.filter((i) => i.function === 'checkNodeReady');
const failure = (i: { outcome: unknown }) => i.outcome as { errorType?: string; errorMessage?: string };
const readyNodes = (world: World) =>
  (world.cluster('prod').store.list('nodes') as { spec: { providerID: string }; status?: { conditions?: { type: string; status: string }[] } }[])
    .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.spec.providerID.split('/').at(-1)!);
async function groupInstances(): Promise<{ InstanceId?: string; LifecycleState?: string }[]> {
  const out = await new AutoScalingClient({ region }).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }));
  return out.AutoScalingGroups![0]!.Instances ?? [];
}

describe('Scenario: a cluster whose API endpoint is private', () => {
  describe('DescribeCluster', () => {
    let world: World;
    before(async () => {
      world = await World.start();
      await world.addCluster('prod', { endpoint: 'private' });
    });
    after(() => world.stop());

    it('reports public access off and private access on, in the seeded VPC', async () => {
      const { cluster } = await new EKSClient({ region }).send(new DescribeClusterCommand({ name: 'prod' }));
      assert.equal(cluster!.resourcesVpcConfig!.endpointPublicAccess, false);
      assert.equal(cluster!.resourcesVpcConfig!.endpointPrivateAccess, true);
      assert.equal(cluster!.resourcesVpcConfig!.vpcId, world.account.seedVpc().vpcId);
    });
  });

  describe('deployed without the vpc params, the hook defaulting to ABANDON: every new instance is thrown away', () => {
    // past the hook's heartbeat timeout, and past the node checks of the replacements launched then
    const RUN_MS = (HEARTBEAT_S + 330) * 1000;
    let run: Run;
    before(async () => {
      run = await scaleOut(await World.start(), 'ABANDON', RUN_MS);
    });
    after(() => run.world.stop());

    it('puts no function in a VPC', () => {
      assert.deepEqual(run.world.model.functions.filter((f) => f.vpcConfig), []);
    });

    it('the node check cannot connect: each attempt ends at the client\'s 10 s deadline (virtual), a retryable KubernetesUnavailableError', () => {
      const first = checks(run.world).filter((i) => JSON.parse(JSON.stringify(i.payload)).instanceId === run.launched[0]);
      assert.equal(first.length, 7, 'the first attempt and CheckNode\'s 6 retries');
      for (const i of first) {
        assert.equal(failure(i).errorType, 'KubernetesUnavailableError');
        assert.match(failure(i).errorMessage!, /no answer within 10000 ms/);
      }
      const held = run.world.privateEndpoints().held.filter((h) => h.function === 'checkNodeReady');
      assert.ok(held.length >= 14 && held.every((h) => h.ended === 'client deadline'), `${held.length} connection attempts held`);
    });

    it('so node-join ends at CannotCheckNode, leaving each hook to its default result: nothing completes it', () => {
      const first = joins(run.world).filter((e) => run.launched.slice(0, 2).includes(JSON.parse(e.input).instanceId));
      assert.equal(first.length, 2);
      for (const e of first) {
        assert.equal(e.status, 'FAILED');
        assert.equal(e.error, 'CannotCheckNode');
      }
      assert.deepEqual(completions(run.world), []);
    });

    it('although both nodes joined and were Ready (the operator\'s kubectl, in no Lambda and no VPC gate, sees the replacements\' now)', async (t) => {
      const [a, b, ...replacements] = run.launched;
      assert.ok(run.everReady.has(a!) && run.everReady.has(b!), 'both nodes were Ready before they were abandoned');
      // the service's own client, used from the scenario (in no invocation), is not gated either
      const kube = new KubeClients(awsScope({ region }), new EksTokenCache({ region, now: () => run.world.clock.date() }));
      const listed = await (await kube.core('prod')).listNode();
      assert.equal(listed.items.length, replacements.length);
      if (!(await hasKubectl())) return t.skip('kubectl is not installed');
      const out = await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].spec.providerID}'], { kubeconfig: await run.world.writeKubeconfig('prod'), timeoutMs: 60_000 });
      assert.equal(out.exitCode, 0, out.stderr);
      assert.deepEqual(out.stdout.split(' ').map((p) => p.split('/').at(-1)).sort(), [...replacements].sort());
    });

    it('at the heartbeat timeout Auto Scaling abandons both healthy instances, terminates them, and launches replacements that meet the same end', async () => {
      const [a, b, ...replacements] = run.launched;
      const expiries = run.monitor.report().hookExpiries.filter((x) => x.transition === 'launch');
      assert.deepEqual(expiries.map((x) => x.instanceId).sort(), [a, b].sort());
      assert.ok(expiries.every((x) => x.why === 'heartbeat timeout'));
      for (const id of [a!, b!]) assert.ok(['shutting-down', 'terminated'].includes(run.world.account.ec2.instances.get(id)!.instance.State.Name!), `${id} terminated`);
      assert.equal(replacements.length, 2, 'the group launches two more');
      const states = await groupInstances();
      assert.deepEqual(states.map((i) => i.LifecycleState), ['Pending:Wait', 'Pending:Wait'], 'waiting on the same hook, whose checks already failed');
      assert.ok(joins(run.world).every((e) => e.status === 'FAILED' && e.error === 'CannotCheckNode'));
    });

    it('holds the invariants (the abandoned instances terminated by AWS, the group still launching)', async () => {
      const [a, b] = run.launched;
      await run.monitor.assertHeld({ groups: [], terminatedByAws: [a!, b!] });
    });
  });

  describe('deployed without the vpc params, the hook defaulting to CONTINUE (README "Private clusters")', () => {
    let run: Run;
    before(async () => {
      run = await scaleOut(await World.start(), 'CONTINUE', (HEARTBEAT_S + 60) * 1000);
    });
    after(() => run.world.stop());

    it('the checks fail the same way, and at the heartbeat timeout the instances go InService: the service was blind, the nodes are kept', async () => {
      assert.ok(joins(run.world).every((e) => e.status === 'FAILED' && e.error === 'CannotCheckNode'));
      assert.deepEqual(completions(run.world), []);
      assert.deepEqual(run.launched.length, 2);
      const states = await groupInstances();
      assert.deepEqual(states.map((i) => i.LifecycleState), ['InService', 'InService']);
      assert.deepEqual(readyNodes(run.world).sort(), [...run.launched].sort());
    });

    it('holds the invariants, the group back at its size with Ready nodes', async () => {
      await run.monitor.assertHeld({ groups: [{ name: GROUP, floor: 0, sizes: { desired: 2 } }] });
    });
  });

  describe('deployed with the vpc params (the cluster VPC\'s subnets)', () => {
    let run: Run;
    before(async () => {
      const world = await World.start({ params: inTheVpc });
      run = await scaleOut(world, 'ABANDON', (HEARTBEAT_S + 60) * 1000);
    });
    after(() => run.world.stop());

    it('runs the Kubernetes-facing functions in the VPC', () => {
      const vpc = run.world.account.seedVpc();
      const inVpc = run.world.model.functions.filter((f) => f.vpcConfig).map((f) => f.key);
      assert.deepEqual(inVpc.sort(), ['checkNodeReady', 'doctorProbe', 'drainStep', 'prepareLaunchTemplate', 'promotionStep', 'requestDrain', 'rollStep', 'rolloutPreflight']);
      for (const key of inVpc) assert.deepEqual(run.world.model.functions.find((f) => f.key === key)!.vpcConfig!.subnetIds, vpc.subnets.map((s) => s.subnetId));
    });

    it('reaches the API: the nodes join and each hook is completed with CONTINUE once its node is Ready', async () => {
      assert.deepEqual(run.world.privateEndpoints().held, []);
      assert.equal(run.launched.length, 2);
      assert.ok(joins(run.world).every((e) => e.status === 'SUCCEEDED'), joins(run.world).map((e) => `${e.status} ${e.error ?? ''}`).join(', '));
      const results = completions(run.world).map((c) => [(c.input as { InstanceId: string }).InstanceId, (c.input as { LifecycleActionResult: string }).LifecycleActionResult]);
      assert.deepEqual(results.sort(), run.launched.map((id) => [id, 'CONTINUE']).sort());
      assert.deepEqual((await groupInstances()).map((i) => i.LifecycleState), ['InService', 'InService']);
      assert.ok(checks(run.world).every((i) => !failure(i).errorType), 'no check failed');
    });

    it('holds the invariants', async () => {
      await run.monitor.assertHeld({ groups: [{ name: GROUP, floor: 0, sizes: { desired: 2 } }] });
    });
  });

  it('a connection with no client deadline would end at the kernel\'s connect timeout', () => {
    assert.equal(CONNECT_TIMEOUT_MS, 127_000);
  });
});
