import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateLaunchTemplateVersionCommand, EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient, UpdateNodegroupConfigCommand } from '@aws-sdk/client-eks';
import { KubeClients } from '../../shared/kube/client.js';
import { EksTokenCache } from '../../shared/kube/eks-token.js';
import { renderUserData } from '../../shared/launch-templates/user-data.js';
import { type ManagedStep, type ManagedUpdateInput, type ManagedUpdatePorts, type ManagedUpdateState, stepManagedUpdate } from '../../shared/rollout/managed-update/managed-update.js';
import { watchWorkloads } from '../../shared/rollout/managed-update/managed-update-strategy.js';
import { DEFAULT_HEALTH_CRITERIA } from '../../shared/fleet/workload-health.js';
import { createDeployment, createPdb, eksInUse, releaseAmi, watchBudgets, World } from '@eks-node-lifecycle/sandbox';
import { awsScope } from '../../shared/aws/clients.js';

/**
 * The managed node group path of a rollout, in the sandbox: the step is driven as the
 * ami-rollout workflow drives it, calling again after each `wait` on the virtual clock,
 * while the simulated EKS rolls the group through its documented phases.
 */
const region = 'eu-west-1';
const TAG = 'eks-node-lifecycle/';

interface Setup {
  world: World;
  release: string;
  imageId: string;
}

async function managedGroup(
  t: { after: (fn: () => Promise<void>) => void },
  options: { tags?: Record<string, string>; pdbMinAvailable?: number; launchTemplate?: 'custom-ami'; updateConfig?: { maxUnavailable: number }; badFor?: 'workloads' } = {},
): Promise<Setup> {
  const world = await World.start();
  t.after(() => world.stop());
  const cluster = await world.addCluster('prod');
  let launchTemplate: { imageId: string; instanceType: string; userData: string } | undefined;
  if (options.launchTemplate === 'custom-ami') {
    const image = [...world.account.ec2.images.values()].find((i) => i.family === 'al2023' && i.kubernetesVersion === '1.31')!;
    launchTemplate = { imageId: image.image.ImageId!, instanceType: 'm5.large', userData: bootstrapFor(world) };
  }
  world.account.createManagedNodegroup({
    cluster: 'prod',
    name: 'general',
    desired: 3,
    max: 3,
    ...(options.tags ? { tags: options.tags } : {}),
    ...(launchTemplate ? { launchTemplate } : {}),
    ...(options.updateConfig ? { updateConfig: options.updateConfig } : {}),
  });
  await world.settle();
  createDeployment(cluster.store, { namespace: 'shop', name: 'web', replicas: 6, labels: { app: 'web' } });
  if (options.pdbMinAvailable !== undefined) createPdb(cluster.store, { namespace: 'shop', name: 'web', selector: { app: 'web' }, minAvailable: options.pdbMinAvailable });
  await world.run(30_000);
  const image = releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261201', ...(options.badFor ? { badFor: { for: options.badFor, namespaces: ['shop'] } } : {}) });
  return { world, release: image.releaseVersion!, imageId: image.image.ImageId! };
}

/** A full AL2023 bootstrap for the sandbox cluster: a custom AMI gets nothing merged by EKS. */
function bootstrapFor(world: World): string {
  const c = world.account.eks.require('prod').cluster;
  return renderUserData({
    family: 'al2023',
    mode: 'full-bootstrap',
    cluster: { name: 'prod', endpoint: c.endpoint!, certificateAuthority: c.certificateAuthority!.data!, serviceIpv4Cidr: '172.20.0.0/16' },
  });
}

function portsFor(world: World) {
  const aws = awsScope({ region });
  const kube = new KubeClients(aws, new EksTokenCache({ region, now: () => world.clock.date() }));
  const logs: { message: string; attributes?: Record<string, unknown> }[] = [];
  return {
    kube,
    ports: {
      aws,
      kube: async () => kube,
      now: () => world.clock.date(),
      log: (message: string, attributes?: Record<string, unknown>) => logs.push({ message, ...(attributes ? { attributes } : {}) }),
    },
    logs,
  };
}

interface Drive {
  steps: ManagedStep[];
  last: ManagedStep;
}

/** Calls the step until it ends, sleeping each returned wait on the virtual clock (as a Wait state would). */
async function drive(
  world: World,
  input: Omit<ManagedUpdateInput, 'state' | 'clientRequestToken'> & { clientRequestToken?: string },
  state: ManagedUpdateState | null = null,
  extra: Partial<ManagedUpdatePorts> = {},
): Promise<Drive> {
  const ports = { ...portsFor(world).ports, ...extra };
  const steps: ManagedStep[] = [];
  for (let i = 0; i < 500; i++) {
    const step = await stepManagedUpdate({ clientRequestToken: 'rollout-1', ...input, state }, ports);
    steps.push(step);
    if (step.kind !== 'wait') {
      if (process.env.SHOW_REPORT && step.kind === 'failed') console.log(JSON.stringify(step.report, null, 2));
      return { steps, last: step };
    }
    state = step.state;
    await world.run(step.seconds * 1000);
  }
  throw new Error(`no end after 500 steps: ${JSON.stringify(steps.at(-1))}`);
}

const callsOf = (world: World, command: string) => world.account.calls.filter((c) => c.command === command && !c.error);
const nodegroup = (world: World) => world.account.eks.requireNodegroup('prod', 'general').nodegroup;
const input = { cluster: 'prod', nodegroup: 'general', launchTemplate: null } as const;

describe('Scenario: rolling a managed node group onto a new AMI', () => {
  it('updates a group without a custom AMI by release version, polling every 60 s until Successful, without breaking a budget', async (t) => {
    const { world, release } = await managedGroup(t, { pdbMinAvailable: 5 });
    const budgets = watchBudgets(world.cluster('prod').store);
    const before = nodegroup(world).releaseVersion;

    const { steps, last } = await drive(world, { ...input, releaseVersion: release });

    assert.equal(last.kind, 'succeeded', JSON.stringify(last));
    assert.equal(nodegroup(world).releaseVersion, release);
    assert.notEqual(before, release);
    const versionCalls = callsOf(world, 'UpdateNodegroupVersion');
    assert.equal(versionCalls.length, 1);
    const sent = versionCalls[0]!.input as Record<string, unknown>;
    assert.equal(sent.releaseVersion, release);
    assert.equal(sent.launchTemplate, undefined);
    assert.equal(sent.force, undefined, 'no force without on-drain-timeout=force');
    assert.equal(sent.clientRequestToken, 'rollout-1');
    assert.equal(callsOf(world, 'UpdateNodegroupConfig').length, 0, 'no tags, no config update');
    const waits = steps.filter((s) => s.kind === 'wait');
    assert.ok(waits.length >= 5, `${waits.length} polls`);
    assert.ok(waits.every((w) => w.kind === 'wait' && w.seconds === 60 && w.phase === 'nodes-updating'));
    const [only] = [...world.account.eks.updates.updates.values()];
    assert.equal((last as Extract<ManagedStep, { kind: 'succeeded' }>).updateId, only!.update.id);
    assert.deepEqual(budgets.violations, []);

    // run again (a retried step after the end): the group is at the target, nothing starts
    const again = await drive(world, { ...input, releaseVersion: release });
    assert.equal(again.last.kind, 'succeeded');
    assert.equal((again.last as Extract<ManagedStep, { kind: 'succeeded' }>).alreadyAtTarget, true);
    assert.equal(callsOf(world, 'UpdateNodegroupVersion').length, 1);
  });

  it('rolls a custom-AMI group onto the launch template version given, without releaseVersion or version', async (t) => {
    const { world, imageId } = await managedGroup(t, { launchTemplate: 'custom-ami' });
    const template = nodegroup(world).launchTemplate!;
    const created = await new EC2Client({ region }).send(
      new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: template.id, SourceVersion: template.version, LaunchTemplateData: { ImageId: imageId } }),
    );
    const version = created.LaunchTemplateVersion!.VersionNumber!;

    const { last } = await drive(world, { ...input, launchTemplate: { id: template.id!, version } });

    assert.equal(last.kind, 'succeeded', JSON.stringify(last));
    const sent = callsOf(world, 'UpdateNodegroupVersion')[0]!.input as Record<string, unknown>;
    assert.deepEqual(sent.launchTemplate, { id: template.id, version: String(version) });
    assert.equal(sent.releaseVersion, undefined);
    assert.equal(sent.version, undefined);
    assert.equal(nodegroup(world).launchTemplate!.version, String(version));
    const group = world.account.autoscaling.group(world.account.eks.requireNodegroup('prod', 'general').autoScalingGroupName);
    // the last scale-in victim may still be terminating when the update is reported Successful
    const serving = [...group.instances.values()].filter((i) => i.lifecycleState === 'InService');
    const images = serving.map((i) => world.account.ec2.instances.get(i.instanceId)!.instance.ImageId);
    assert.equal(images.length, 3);
    assert.ok(images.every((i) => i === imageId), `every node on ${imageId}: ${images.join(', ')}`);
  });

  it('applies the update config the tags set before the version update, and waits for it', async (t) => {
    const { world, release } = await managedGroup(t, { tags: { [`${TAG}max-unavailable`]: '2' } });

    const { steps, last } = await drive(world, { ...input, releaseVersion: release });

    assert.equal(last.kind, 'succeeded', JSON.stringify(last));
    const config = callsOf(world, 'UpdateNodegroupConfig');
    assert.equal(config.length, 1);
    assert.deepEqual((config[0]!.input as Record<string, unknown>).updateConfig, { maxUnavailable: 2 });
    const version = callsOf(world, 'UpdateNodegroupVersion')[0]!;
    assert.ok(config[0]!.at < version.at, 'config first');
    assert.equal(nodegroup(world).updateConfig!.maxUnavailable, 2);
    assert.equal(steps[0]!.kind === 'wait' && steps[0]!.phase, 'config-updating');
    assert.equal(steps[0]!.kind === 'wait' && steps[0]!.seconds, 30);
    assert.ok(last.state.configUpdateId && last.state.updateId && last.state.configUpdateId !== last.state.updateId);
    // EKS took two old nodes at a time, as the config said
    const drains = world.account.log.filter((e) => e.source === 'eks' && e.message.includes('upgrade: draining'));
    assert.ok(drains.some((e) => e.message.split(',').length === 2), drains.map((e) => e.message).join('\n'));
  });

  it('leaves the update config alone when it already matches the tags', async (t) => {
    const { world, release } = await managedGroup(t, { tags: { [`${TAG}max-unavailable`]: '2' }, updateConfig: { maxUnavailable: 2 } });
    const { last } = await drive(world, { ...input, releaseVersion: release });
    assert.equal(last.kind, 'succeeded');
    assert.equal(callsOf(world, 'UpdateNodegroupConfig').length, 0);
  });

  it('waits while another update runs (30 s polls), then starts its own', async (t) => {
    const { world, release } = await managedGroup(t);
    // someone resizes the group: a config update of theirs is in progress
    await new EKSClient({ region }).send(new UpdateNodegroupConfigCommand({ clusterName: 'prod', nodegroupName: 'general', scalingConfig: { maxSize: 4 } }));
    const startedAt = world.clock.now();

    const { steps, last } = await drive(world, { ...input, releaseVersion: release });

    assert.equal(last.kind, 'succeeded', JSON.stringify(last));
    const first = steps[0]!;
    assert.equal(first.kind, 'wait');
    assert.equal(first.kind === 'wait' && first.phase, 'another-update-running');
    assert.equal(first.kind === 'wait' && first.seconds, 30);
    assert.match((first.kind === 'wait' && first.detail) || '', /ConfigUpdate/);
    const version = callsOf(world, 'UpdateNodegroupVersion');
    assert.equal(version.length, 1);
    assert.ok(version[0]!.at >= startedAt + 30_000, 'started only after the other update ended');
    assert.equal(nodegroup(world).releaseVersion, release);
  });

  it('answers ResourceInUseException with a 30 s wait, then proceeds', async (t) => {
    const { world, release } = await managedGroup(t);
    // EKS's view lags: DescribeNodegroup says ACTIVE, but the start is refused once
    world.account.faults.set('eks:UpdateNodegroupVersion', (_input, call) => (call.attempt === 1 ? eksInUse('Nodegroup general cannot be updated as it is currently in UPDATING state.') : undefined));

    const { steps, last } = await drive(world, { ...input, releaseVersion: release });

    assert.equal(last.kind, 'succeeded', JSON.stringify(last));
    assert.deepEqual(steps[0], { kind: 'wait', state: steps[0]!.state, seconds: 30, phase: 'another-update-running', detail: 'Nodegroup general cannot be updated as it is currently in UPDATING state.' });
    assert.equal(steps[0]!.state.phase, 'config', 'nothing started: the next call starts again');
    assert.equal(world.account.calls.filter((c) => c.command === 'UpdateNodegroupVersion').length, 2);
    assert.equal(world.account.eks.updates.updates.size, 1);
  });

  it('adopts its own update when a retried first call finds it running, instead of starting a second', async (t) => {
    const { world, release } = await managedGroup(t);
    const { ports } = portsFor(world);
    const first = await stepManagedUpdate({ ...input, releaseVersion: release, state: null, clientRequestToken: 'rollout-1' }, ports);
    assert.equal(first.kind, 'wait');
    await world.run(5_000);
    // the workflow lost the answer (a Lambda timeout) and calls again with no state
    const retried = await stepManagedUpdate({ ...input, releaseVersion: release, state: null, clientRequestToken: 'rollout-1' }, ports);
    assert.equal(retried.kind, 'wait');
    assert.equal(retried.kind === 'wait' && retried.phase, 'nodes-updating');
    assert.equal(retried.state.updateId, first.state.updateId);
    assert.equal(retried.state.phase, 'await-version');
    const { last } = await drive(world, { ...input, releaseVersion: release }, retried.state);
    assert.equal(last.kind, 'succeeded');
    assert.equal(callsOf(world, 'UpdateNodegroupVersion').length, 1);
  });

  it('stops on PodEvictionFailure and names the budget that allows no disruption and the pods it holds', async (t) => {
    const { world, release } = await managedGroup(t, { pdbMinAvailable: 6 });

    const { last } = await drive(world, { ...input, releaseVersion: release });

    assert.equal(last.kind, 'failed', JSON.stringify(last));
    const { report } = last as Extract<ManagedStep, { kind: 'failed' }>;
    assert.equal(report.status, 'Failed');
    assert.equal(report.errors[0]!.code, 'PodEvictionFailure');
    assert.equal(report.updateId, last.state.updateId);
    const pods = world.cluster('prod').store.list('pods', { namespace: 'shop' }) as any[];
    const onCordoned = new Set(
      (world.cluster('prod').store.list('nodes') as any[]).filter((n) => n.spec.unschedulable && n.metadata.labels['eks.amazonaws.com/nodegroup'] === 'general').map((n) => n.metadata.name),
    );
    const expected = pods.filter((p) => onCordoned.has(p.spec.nodeName)).map((p) => `shop/${p.metadata.name}`).sort();
    assert.ok(expected.length > 0);
    assert.deepEqual(report.blockers!.map((b) => b.pod).sort(), expected);
    assert.ok(report.blockers!.every((b) => b.pdb === 'shop/web' && b.disruptionsAllowed === 0));
    assert.match(report.summary, /PodDisruptionBudget shop\/web allows no disruption/);
    assert.match(report.summary, /on-drain-timeout=force/);
    assert.ok(report.reasons.some((r) => r.includes('stay cordoned')), report.reasons.join('\n'));
    assert.equal(callsOf(world, 'UpdateNodegroupVersion').length, 1, 'a managed group is not retried or rolled back');
  });

  it('forces the EKS update only when the group says on-drain-timeout=force', async (t) => {
    const { world, release } = await managedGroup(t, { pdbMinAvailable: 6, tags: { [`${TAG}on-drain-timeout`]: 'force' } });

    const { last } = await drive(world, { ...input, releaseVersion: release });

    assert.equal(last.kind, 'succeeded', JSON.stringify(last));
    assert.equal((callsOf(world, 'UpdateNodegroupVersion')[0]!.input as Record<string, unknown>).force, true);
    assert.equal(nodegroup(world).releaseVersion, release);
  });

  it('stops on NodeCreationFailure and lists the likely causes, ruling out what the facts rule out', async (t) => {
    const { world, release } = await managedGroup(t);
    world.account.eks.failNextUpdate('prod', 'general', 'NodeCreationFailure');

    const { last } = await drive(world, { ...input, releaseVersion: release });

    assert.equal(last.kind, 'failed', JSON.stringify(last));
    const { report } = last as Extract<ManagedStep, { kind: 'failed' }>;
    assert.equal(report.errors[0]!.code, 'NodeCreationFailure');
    const text = report.reasons.join('\n');
    assert.match(text, /ran but never registered/);
    assert.match(text, /ruled out: node role access: .* has a node access entry/);
    assert.match(text, /ruled out: subnet addresses/);
    assert.match(text, /likely causes to check: .*user data.*cluster endpoint/s);
    assert.doesNotMatch(text, /^cause:/m, 'nothing is claimed that the facts do not show');
    assert.match(report.summary, /never registered/);
    assert.match(report.summary, /user data/);
  });

  it('on NodeCreationFailure, names a node role without an access entry as the cause', async (t) => {
    const { world, release } = await managedGroup(t);
    const cluster = world.account.eks.require('prod');
    const role = nodegroup(world).nodeRole!;
    cluster.cluster.accessConfig = { ...cluster.cluster.accessConfig, authenticationMode: 'API' };
    cluster.accessEntries.delete(role);

    const { last } = await drive(world, { ...input, releaseVersion: release });

    assert.equal(last.kind, 'failed', JSON.stringify(last));
    const { report } = last as Extract<ManagedStep, { kind: 'failed' }>;
    assert.equal(report.errors[0]!.code, 'NodeCreationFailure');
    assert.ok(report.reasons.some((r) => r.startsWith(`cause: node role ${role} may not join the cluster: it has no EC2_LINUX/EC2_WINDOWS access entry`)), report.reasons.join('\n'));
    assert.ok(report.summary.includes(`node role ${role} may not join the cluster`), report.summary);
    assert.match(report.summary, /create an EC2_LINUX \(or EC2_WINDOWS\) access entry/);
    assert.doesNotMatch(report.reasons.join('\n'), /user data/, 'a confirmed cause is not diluted with guesses');
  });
});

describe('Scenario: a managed node group update and the fleet (workload health, freezes, holds)', () => {
  /** The rollout's watch (managed-update-strategy.ts): the group's nodes on the new image, by EKS's nodegroup-image label. */
  const watchOf = (world: World, imageId: string) => {
    const { kube, ports } = portsFor(world);
    return () => watchWorkloads('prod', 'general', imageId, { aws: ports.aws, kube, healthCriteria: async () => DEFAULT_HEALTH_CRITERIA, now: ports.now });
  };

  it('rolls a custom-AMI group back to its launch template version once EKS\'s update ends, when the new nodes crash-loop their pods', async (t) => {
    const { world, imageId } = await managedGroup(t, { launchTemplate: 'custom-ami', badFor: 'workloads' });
    const template = nodegroup(world).launchTemplate!;
    const oldImage = world.account.ec2.instances.get([...world.account.autoscaling.group(world.account.eks.requireNodegroup('prod', 'general').autoScalingGroupName).instances.keys()][0]!)!.instance.ImageId;
    const created = await new EC2Client({ region }).send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: template.id, SourceVersion: template.version, LaunchTemplateData: { ImageId: imageId } }));
    const version = created.LaunchTemplateVersion!.VersionNumber!;

    const { steps, last } = await drive(world, { ...input, launchTemplate: { id: template.id!, version }, previous: { id: template.id!, version: Number(template.version) } }, null, { watchHealth: watchOf(world, imageId) });

    assert.equal(last.kind, 'rolled-back', JSON.stringify(last).slice(0, 2000));
    const rollback = last.state.rollback!;
    assert.equal(rollback.cause, 'failed-health');
    assert.match(rollback.reason, /^health gate: workloads regressed on the new nodes: crash-loops/);
    const crash = rollback.signals!.find((s) => s.signal === 'crash-loops')!;
    assert.ok(crash.evidence.every((e) => e.startsWith('shop/web-')), JSON.stringify(crash));
    // EKS's update cannot be cancelled: it ran to its end, then one update back
    const calls = callsOf(world, 'UpdateNodegroupVersion').map((c) => c.input as Record<string, unknown>);
    assert.deepEqual(calls.map((c) => [(c.launchTemplate as { version: string }).version, c.clientRequestToken]), [[String(version), 'rollout-1'], [template.version, 'rollout-1-rollback']]);
    assert.ok(steps.some((s) => s.kind === 'wait' && s.phase === 'rolling-back'));
    assert.equal(nodegroup(world).launchTemplate!.version, template.version);
    const group = world.account.autoscaling.group(world.account.eks.requireNodegroup('prod', 'general').autoScalingGroupName);
    const serving = [...group.instances.values()].filter((i) => i.lifecycleState === 'InService').map((i) => world.account.ec2.instances.get(i.instanceId)!.instance.ImageId);
    assert.ok(serving.length === 3 && serving.every((i) => i === oldImage), `every node back on ${oldImage}: ${serving.join(', ')}`);
  });

  it('takes a custom-AMI group back to its launch template version after EKS\'s update when the release is held while it runs', async (t) => {
    const { world, imageId } = await managedGroup(t, { launchTemplate: 'custom-ami' });
    const template = nodegroup(world).launchTemplate!;
    const created = await new EC2Client({ region }).send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: template.id, SourceVersion: template.version, LaunchTemplateData: { ImageId: imageId } }));
    const version = created.LaunchTemplateVersion!.VersionNumber!;
    let looks = 0;
    // continue before the start and at the first poll; held from the second poll on
    const atBatchBoundary = async () => (++looks >= 3 ? { verdict: 'stop' as const, hold: {} as never, reason: 'rel is held' } : { verdict: 'continue' as const });
    const { last } = await drive(world, { ...input, launchTemplate: { id: template.id!, version }, previous: { id: template.id!, version: Number(template.version) } }, null, { atBatchBoundary });
    assert.equal(last.kind, 'rolled-back', JSON.stringify(last).slice(0, 2000));
    assert.deepEqual(last.state.rollback && [last.state.rollback.cause, last.state.rollback.reason], ['held', 'stopped: rel is held']);
    assert.deepEqual(callsOf(world, 'UpdateNodegroupVersion').map((c) => (c.input as { launchTemplate: { version: string } }).launchTemplate.version), [String(version), template.version]);
    assert.equal(nodegroup(world).launchTemplate!.version, template.version);
  });

  it('ends regressed (no way back: a release version) when the new nodes crash-loop a group rolled by release', async (t) => {
    const { world, release, imageId } = await managedGroup(t, { badFor: 'workloads' });
    const { last } = await drive(world, { ...input, releaseVersion: release }, null, { watchHealth: watchOf(world, imageId) });
    assert.equal(last.kind, 'regressed', JSON.stringify(last).slice(0, 2000));
    assert.match((last as { reason: string }).reason, /crash-loops.*EKS cannot roll back/);
    assert.equal(callsOf(world, 'UpdateNodegroupVersion').length, 1);
  });

  it('goes on when the new nodes are fine (their workloads not regressed; young nodes are insufficient data)', async (t) => {
    const { world, release, imageId } = await managedGroup(t);
    const { last } = await drive(world, { ...input, releaseVersion: release }, null, { watchHealth: watchOf(world, imageId) });
    assert.equal(last.kind, 'succeeded', JSON.stringify(last).slice(0, 2000));
    assert.equal(last.state.rollback, undefined);
  });

  it('waits under a freeze right before UpdateNodegroupVersion, and starts once it is lifted', async (t) => {
    const { world, release } = await managedGroup(t);
    let frozen = true;
    const atBatchBoundary = async () => (frozen ? { verdict: 'pause' as const, freeze: {} as never, reason: 'frozen: everything' } : { verdict: 'continue' as const });
    const { ports } = portsFor(world);
    const first = await stepManagedUpdate({ ...input, releaseVersion: release, state: null, clientRequestToken: 'rollout-1' }, { ...ports, atBatchBoundary });
    assert.deepEqual([first.kind, first.kind === 'wait' && first.phase, first.kind === 'wait' && first.seconds], ['wait', 'frozen', 180]);
    assert.equal(callsOf(world, 'UpdateNodegroupVersion').length, 0);
    const again = await stepManagedUpdate({ ...input, releaseVersion: release, state: first.state, clientRequestToken: 'rollout-1' }, { ...ports, atBatchBoundary });
    assert.equal(again.state.frozenSince, first.state.frozenSince, 'the freeze is the one first seen');
    frozen = false;
    const { last } = await drive(world, { ...input, releaseVersion: release }, again.state, { atBatchBoundary });
    assert.equal(last.kind, 'succeeded');
    assert.equal(callsOf(world, 'UpdateNodegroupVersion').length, 1);
  });

  it('ends held before UpdateNodegroupVersion when the release is held: nothing changes', async (t) => {
    const { world, release } = await managedGroup(t);
    const before = nodegroup(world).releaseVersion;
    const { last } = await drive(world, { ...input, releaseVersion: release }, null, { atBatchBoundary: async () => ({ verdict: 'stop', hold: {} as never, reason: 'rel is held: crash loops in dev' }) });
    assert.deepEqual([last.kind, (last as { reason: string }).reason], ['held', 'stopped before the EKS update started: rel is held: crash loops in dev']);
    assert.equal(callsOf(world, 'UpdateNodegroupVersion').length, 0);
    assert.equal(nodegroup(world).releaseVersion, before);
  });
});
