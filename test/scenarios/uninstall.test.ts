import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeLifecycleHooksCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, CreateLaunchTemplateVersionCommand, DescribeLaunchTemplatesCommand, ModifyLaunchTemplateCommand, DescribeLaunchTemplateVersionsCommand, DescribeTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateAccessEntryCommand, EKSClient, ListAccessEntriesCommand } from '@aws-sdk/client-eks';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { executeUninstall, planUninstall, readInstallation, type UninstallPlan } from '../../scripts/deploy/uninstall.js';
import { INSTALLED_HOOK } from '../../shared/drain/ensure-terminate-hooks.js';
import { releaseAmi, runDefaultScenario, World } from '@eks-node-lifecycle/sandbox';
import { type AwsScope, awsScope } from '../../shared/aws/clients.js';

/** the roles scripts/kubernetes/grant-access.sh gives cluster access */
const GRANTED_ROLES = ['CheckNodeReadyRole', 'RequestDrainRole', 'DrainStepRole', 'RollStepRole', 'RolloutPreflightRole', 'PrepareLaunchTemplateRole'];

/** Everything uninstall could touch, read through the SDK as an operator would. */
async function snapshot(world: World) {
  const region = world.model.region;
  const autoscaling = new AutoScalingClient({ region });
  const ec2 = new EC2Client({ region });
  const eks = new EKSClient({ region });
  const hooks: string[] = [];
  const groupTags: string[] = [];
  for (const g of (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups ?? []) {
    for (const h of (await autoscaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: g.AutoScalingGroupName }))).LifecycleHooks ?? []) hooks.push(`${g.AutoScalingGroupName} ${h.LifecycleHookName}`);
    for (const t of g.Tags ?? []) groupTags.push(`${g.AutoScalingGroupName} ${t.Key}=${t.Value}`);
  }
  const versions: string[] = [];
  for (const t of (await ec2.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates ?? []) {
    for (const v of (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: t.LaunchTemplateId }))).LaunchTemplateVersions ?? []) {
      versions.push(`${t.LaunchTemplateName} ${v.VersionNumber} ${v.VersionDescription ?? ''}`);
    }
  }
  const accessEntries = ((await eks.send(new ListAccessEntriesCommand({ clusterName: 'prod' }))).accessEntries ?? []).map((arn) => `prod ${arn}`);
  const instanceTags = ((await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-type', Values: ['instance'] }] }))).Tags ?? []).map((t) => `${t.ResourceId} ${t.Key}=${t.Value}`);
  return { hooks: hooks.sort(), groupTags: groupTags.sort(), versions: versions.sort(), accessEntries: accessEntries.sort(), instanceTags: instanceTags.sort() };
}

const minus = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));

describe('Uninstall (scripts/deploy/uninstall.ts) in the sandbox, after the default scenario', () => {
  let world: World;
  let ports: { aws: AwsScope };
  let clients: { ec2: EC2Client; eks: EKSClient };
  let before_: Awaited<ReturnType<typeof snapshot>>;
  let plan: UninstallPlan;
  const said: string[] = [];

  before(async () => {
    world = await World.start();
    const region = world.model.region;
    ports = { aws: awsScope({ region }) };
    clients = { ec2: new EC2Client({ region }), eks: new EKSClient({ region }) };
    // 1. the default scenario: a scale-out, a drained scale-in, a rollout of both groups onto a new AMI
    await runDefaultScenario(world);
    // 2. a second release rolls them again: the first rollout's launch template version is nobody's now
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261222' });
    await world.runSchedule('detectStaleGroups', { kind: 'scheduled-detection' });
    await world.settle();
    // 3. a group that opted in to drains without a hook of its own: the service installs its hook
    world.account.createSelfManagedGroup({ cluster: 'prod', name: 'prod-batch', min: 0, max: 2, desired: 0, tags: { 'kubernetes.io/cluster/prod': 'owned', 'eks-node-lifecycle/drain': 'on' } });
    await world.runSchedule('ensureTerminateHooks');
    await world.settle();
    // 4. access granted as grant-access.sh grants it; a person's access entry beside them
    for (const role of GRANTED_ROLES) {
      await clients.eks.send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: `arn:aws:iam::${world.model.accountId}:role/eks-node-lifecycle-sandbox-${role}`, kubernetesGroups: ['eks-node-lifecycle'], type: 'STANDARD' }));
    }
    await clients.eks.send(new CreateAccessEntryCommand({ clusterName: 'prod', principalArn: `arn:aws:iam::${world.model.accountId}:role/platform-admins`, kubernetesGroups: ['platform'], type: 'STANDARD' }));
    // 5. the user's own template, with a version used by nobody (prod-workers launches from $Latest: a version there would change what it runs)
    const tools = (await clients.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'tools', LaunchTemplateData: { InstanceType: 't3.micro' } }))).LaunchTemplate!;
    await clients.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: tools.LaunchTemplateId, SourceVersion: '1', VersionDescription: 'bigger root volume, by hand', LaunchTemplateData: {} }));
    await clients.ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: tools.LaunchTemplateId, DefaultVersion: '2' }));
    await clients.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: tools.LaunchTemplateId, SourceVersion: '1', VersionDescription: 'tried, not kept', LaunchTemplateData: {} }));
    before_ = await snapshot(world);
    plan = planUninstall(await readInstallation(ports, 'sandbox', ['prod']), { removeOwnershipTags: true, clusters: ['prod'] });
  });
  after(() => world.stop());

  it('changes nothing with --dry-run, and says what it would do', async () => {
    const lines: string[] = [];
    await executeUninstall(plan, ports, { dryRun: true, say: (l) => lines.push(l) });
    assert.deepEqual(await snapshot(world), before_);
    assert.ok(lines.some((l) => l.startsWith('would delete lifecycle hook')), lines.join('\n'));
  });

  it("removes exactly what the service added: its hook, its roles' access entries, its unused launch template versions", async () => {
    await executeUninstall(plan, ports, { say: (l) => said.push(l) });
    const after_ = await snapshot(world);

    assert.deepEqual(minus(before_.hooks, after_.hooks), [`prod-batch ${INSTALLED_HOOK.name}`]);
    assert.deepEqual(minus(before_.accessEntries, after_.accessEntries), GRANTED_ROLES.map((r) => `prod arn:aws:iam::${world.model.accountId}:role/eks-node-lifecycle-sandbox-${r}`).sort());
    // the first release's version: the second rollout moved prod-workers off it
    const removedVersions = minus(before_.versions, after_.versions);
    assert.equal(removedVersions.length, 1, removedVersions.join('\n'));
    assert.match(removedVersions[0]!, /^prod-workers 2 eks-node-lifecycle: .*v20261215/);
    // nothing appeared, and what stays is the user's or still in use
    for (const key of ['hooks', 'accessEntries', 'versions', 'groupTags', 'instanceTags'] as const) assert.deepEqual(minus(after_[key], before_[key]), [], key);
    assert.deepEqual(after_.groupTags, before_.groupTags);
    assert.deepEqual(after_.instanceTags, before_.instanceTags);
  });

  it("keeps the user's: the group's own hooks named in its tags, the launch template versions not the service's, other access entries", async () => {
    const after_ = await snapshot(world);
    assert.ok(after_.hooks.includes('prod-workers wait-for-node') && after_.hooks.includes('prod-workers drain'), after_.hooks.join('\n'));
    assert.deepEqual(after_.versions.filter((v) => v.startsWith('tools ')), ['tools 1 ', 'tools 2 bigger root volume, by hand', 'tools 3 tried, not kept']);
    assert.ok(after_.versions.includes('prod-workers 1 '), 'the original version');
    assert.ok(after_.accessEntries.includes(`prod arn:aws:iam::${world.model.accountId}:role/platform-admins`));
    // the versions the groups run now stay, and say why
    assert.ok(plan.kept.some((k) => /^launch template prod-workers .* version 3: the latest version$/.test(k)), plan.kept.join('\n'));
    assert.ok(after_.versions.some((v) => /^prod-workers 3 eks-node-lifecycle: /.test(v)));
  });

  it('leaves the ownership tags even when asked, saying why', () => {
    assert.ok(plan.kept.some((k) => k.startsWith('ownership tags') && /cannot be told apart/.test(k)), plan.kept.join('\n'));
    assert.ok(said.some((l) => l.startsWith('keep ownership tags')));
  });

  it('finds nothing more to remove when run again', async () => {
    const again = planUninstall(await readInstallation(ports, 'sandbox', ['prod']));
    assert.deepEqual(again.actions, []);
  });
});
