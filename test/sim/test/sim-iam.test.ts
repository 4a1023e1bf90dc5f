import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { IamDecision } from '../iam/authorizer.js';
import { runDefaultScenario } from '../scenarios.js';
import { World } from '../world.js';

/**
 * The sandbox's IAM asks what AWS asks: every question the default scenario (npm start) put
 * to it — action, resource ARN, request context — replayed through iam-simulate's validating
 * entry point, which checks them against the Service Authorization Reference (the action
 * exists, the ARN is of a resource type the action takes, each context key is one AWS sets
 * for that action and resource type) and gives the same answer the fast path gave.
 */
describe('sandbox IAM: the questions it asks', () => {
  let world: World;
  let asked: IamDecision[];
  before(async () => {
    world = await World.start();
    await runDefaultScenario(world);
    asked = [...world.iam.asked.values()];
  });
  after(() => world.stop());

  it('asked about every service the scenario calls, the implicit launch checks included', () => {
    const actions = new Set(asked.map((d) => d.request.action));
    for (const a of ['ec2:CreateTags', 'ec2:RunInstances', 'iam:PassRole', 'autoscaling:UpdateAutoScalingGroup', 'autoscaling:CompleteLifecycleAction', 'eks:DescribeCluster', 'eks:UpdateNodegroupVersion', 'dynamodb:UpdateItem', 'states:StartExecution', 'events:PutEvents', 'lambda:InvokeFunction', 'ssm:GetParameters']) {
      assert.ok(actions.has(a), `${a} asked (asked: ${[...actions].sort().join(', ')})`);
    }
  });

  it('each question is valid for AWS, and its answer is the validating simulation\'s', async () => {
    const problems: string[] = [];
    for (const d of asked) {
      const role = world.iam.roles.get(d.role)!;
      const r = await runSimulation(
        {
          request: { principal: role.arn, action: d.request.action, resource: { resource: d.request.resource, accountId: world.model.accountId }, contextVariables: d.request.context },
          identityPolicies: role.policies,
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      const where = `${d.role} ${d.request.action} ${d.request.resource}`;
      // AWS's public parameters have no account in their ARN (GetParameter answers
      // arn:aws:ssm:<region>::parameter/aws/service/…, SSM user guide "Discovering public
      // parameters"): iam-simulate's resource type pattern wants one, so it cannot place them
      if (r.resultType === 'error' && /^arn:aws:ssm:[a-z0-9-]+::parameter\/aws\//.test(d.request.resource) && r.errors.message === 'no.resource.types') continue;
      if (r.resultType === 'error') {
        problems.push(`${where}: ${JSON.stringify(r.errors)}`);
        continue;
      }
      if (r.overallResult !== d.result) problems.push(`${where}: ${r.overallResult}, the sandbox said ${d.result}`);
      const ignored = r.resultType === 'single' ? r.result.ignoredContextKeys : r.results.flatMap((x) => x.ignoredContextKeys ?? []);
      if (ignored && ignored.length > 0) problems.push(`${where}: context keys AWS does not set for it: ${ignored.join(', ')}`);
    }
    assert.deepEqual(problems, []);
  });
});
