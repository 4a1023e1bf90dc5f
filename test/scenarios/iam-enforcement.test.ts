import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { type DefaultScenarioResult, loadServerlessModel, runDefaultScenario, type SimRole, templateRoles, World } from '@eks-node-lifecycle/sandbox';

/**
 * The sandbox's IAM bites: the default scenario (npm start) with one needed statement taken
 * out of a copy of the template's roles fails where AWS would fail it, with AWS's error; with
 * the statement back, it passes with every call allowed.
 */
const model = loadServerlessModel({ stage: 'sandbox' });

function without(role: string, ...sids: string[]): Map<string, SimRole> {
  const roles = structuredClone(templateRoles(model));
  const r = roles.get(role)!;
  let removed = 0;
  for (const p of r.policies) {
    const statements = [p.policy.Statement].flat() as { Sid?: string }[];
    const kept = statements.filter((s) => !sids.includes(s.Sid ?? ''));
    removed += statements.length - kept.length;
    p.policy.Statement = kept as Record<string, unknown>[];
  }
  assert.equal(removed, sids.length, `${role} has the statements ${sids.join(', ')}`);
  return roles;
}

async function scenario(roles?: Map<string, SimRole>): Promise<{ world: World; result?: DefaultScenarioResult; error?: unknown }> {
  const world = await World.start(roles ? { roles } : {});
  try {
    return { world, result: await runDefaultScenario(world) };
  } catch (error) {
    return { world, error };
  }
}

// each world is stopped by the next test's start, or at the end: one world alive at a time
const worlds: World[] = [];
const stopAll = async () => {
  const errors: unknown[] = [];
  for (const w of worlds.splice(0)) await w.stop().catch((e: unknown) => errors.push(e));
  if (errors.length > 0) throw errors[0];
};
beforeEach(stopAll);
after(stopAll);

const executions = (world: World, prefix: string) => [...world.stepFunctions.executions.values()].filter((e) => e.name.startsWith(prefix));

describe('Scenario: IAM enforced on every call (the default scenario)', () => {
  it('with the template as it is: every call allowed, both rollouts succeed', async () => {
    const { world, error } = await scenario();
    worlds.push(world);
    assert.equal(error, undefined);
    assert.deepEqual(world.iam.denials, []);
    assert.ok(world.iam.counts.allowed > 150, world.iam.summary());
    assert.deepEqual(executions(world, 'roll-').map((e) => e.status), ['SUCCEEDED', 'SUCCEEDED']);
    // the implicit checks were asked, and allowed: the rollout's launch from the new template version
    const asked = [...world.iam.asked.values()].filter((d) => d.request.dependent);
    assert.ok(asked.some((d) => d.request.action === 'ec2:RunInstances' && d.request.resource.includes(':image/')), 'RunInstances on the image');
    assert.ok(asked.some((d) => d.request.action === 'iam:PassRole'), 'PassRole of the node role');
  });

  it('without RollStep\'s RunInstances on launch templates: the self-managed rollout fails "You are not authorized to use launch template", the group keeps its version', async () => {
    const { world } = await scenario(without('RollStepRole', 'LaunchFromClusterTemplates'));
    worlds.push(world);
    const denial = world.iam.denials[0];
    assert.ok(denial, 'denied');
    assert.equal(denial.caller, 'rollStep');
    assert.equal(`${denial.service}:${denial.command}`, 'autoscaling:UpdateAutoScalingGroup');
    assert.equal(denial.request.action, 'ec2:RunInstances');
    assert.match(denial.request.resource, /:launch-template\/lt-/);
    assert.equal(denial.error, 'AccessDenied');
    assert.match(denial.message, /^You are not authorized to use launch template: lt-[0-9a-f]+$/);
    const rollouts = executions(world, 'roll-');
    assert.deepEqual(rollouts.map((e) => e.status).sort(), ['FAILED', 'SUCCEEDED'], 'the managed one (EKS update) succeeds');
    assert.ok(world.timeline.entries.some((e) => e.message.startsWith('IAM denied rollStep (RollStepRole) ec2:RunInstances')), 'the timeline shows it');
    assert.ok(!world.account.calls.some((c) => c.command === 'UpdateAutoScalingGroup' && c.acted && (c.input as { LaunchTemplate?: unknown }).LaunchTemplate), 'no group was pointed at the new version');
  });

  it('without FinishDrain\'s CompleteLifecycleAction: the drain\'s completion is refused AccessDenied; the scale-in\'s hook is left to its timeout (the rollout\'s nodes, drained before termination, have theirs completed by requestDrain)', async () => {
    const { world, result } = await scenario(without('FinishDrainRole', 'CompleteHooks'));
    worlds.push(world);
    const denials = world.iam.denials.filter((d) => d.caller === 'finishDrain');
    assert.ok(denials.length > 0, 'denied');
    assert.equal(denials[0]!.request.action, 'autoscaling:CompleteLifecycleAction');
    assert.equal(denials[0]!.error, 'AccessDenied');
    assert.match(denials[0]!.message, /^User: arn:aws:sts::111122223333:assumed-role\/eks-node-lifecycle-sandbox-FinishDrainRole\/finishDrain is not authorized to perform: autoscaling:CompleteLifecycleAction on resource: arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:[0-9a-f-]+:autoScalingGroupName\/prod-workers because no identity-based policy allows the autoscaling:CompleteLifecycleAction action$/);
    const completions = world.account.calls.filter((c) => c.command === 'CompleteLifecycleAction' && (c.input as { LifecycleHookName?: string }).LifecycleHookName === 'drain' && c.acted);
    assert.ok(completions.length > 0 && completions.every((c) => c.caller === 'requestDrain'), `only requestDrain completed terminate hooks, of nodes already drained (${completions.map((c) => c.caller).join(', ')})`);
    assert.ok(!completions.some((c) => (c.input as { InstanceId?: string }).InstanceId === result?.drained), 'the scale-in\'s hook was completed by no one');
  });

  it('without the tagger\'s CreateTags (on Auto Scaling nodes and launch template nodes): EC2 answers UnauthorizedOperation with an encoded message, and the instance stays untagged', async () => {
    const { world } = await scenario(without('TagInstanceRole', 'TagAutoScalingNodesWithClusterOwnershipOnly', 'TagLaunchTemplateNodesWithClusterOwnershipOnly'));
    worlds.push(world);
    const denial = world.iam.denials.find((d) => d.caller === 'tagInstance');
    assert.ok(denial, 'denied');
    assert.equal(`${denial.service}:${denial.command}`, 'ec2:CreateTags');
    assert.equal(denial.error, 'UnauthorizedOperation');
    assert.match(denial.message, /^You are not authorized to perform this operation\. User: .+ is not authorized to perform: ec2:CreateTags on resource: arn:aws:ec2:eu-west-1:111122223333:instance\/i-[0-9a-f]+ because no identity-based policy allows the ec2:CreateTags action\. Encoded authorization failure message: [A-Za-z0-9+/=]+$/);
    const encoded = JSON.parse(Buffer.from(denial.message.split('Encoded authorization failure message: ')[1]!, 'base64').toString('utf8'));
    assert.equal(encoded.context.action, 'ec2:CreateTags');
    const instanceId = denial.request.resource.split('/').pop()!;
    const out = await new EC2Client({ region: 'eu-west-1' }).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const tags = out.Reservations![0]!.Instances![0]!.Tags ?? [];
    assert.equal(tags.find((t) => t.Key === 'kubernetes.io/cluster/prod'), undefined);
  });
});
