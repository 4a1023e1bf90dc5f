import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadServerlessModel, resolveIntrinsics, templateContext, templateRoles } from '@eks-node-lifecycle/sandbox';
import { type CloudFormationTemplate, PACKAGE_REGION, PACKAGE_STAGE, packageService } from './packaged-service.js';

/**
 * The roles the sandbox authorizes calls against (test/sim/iam/template-roles.ts, read from
 * serverless.yml) are the roles `serverless package` deploys: the same roles, the same
 * policies, statement for statement once CloudFormation's intrinsics are resolved — the
 * state machines' roles the plugin generates included. A change to either side that the
 * other does not follow fails here.
 */
const model = loadServerlessModel({ stage: PACKAGE_STAGE, region: PACKAGE_REGION });
let template: CloudFormationTemplate;

describe('Sandbox IAM: the packaged template\'s roles', () => {
  before(async () => {
    ({ template } = await packageService());
  });

  it('the sandbox evaluates exactly the roles and policies the template deploys', () => {
    const ctx = templateContext(model);
    const packaged = Object.fromEntries(
      Object.entries(template.Resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Role')
        .map(([id, r]) => [id, resolveIntrinsics(r.Properties.Policies ?? [], ctx).map((p: { PolicyName: string; PolicyDocument: unknown }) => ({ name: p.PolicyName, policy: p.PolicyDocument }))]),
    );
    const sandbox = Object.fromEntries([...templateRoles(model, ctx)].map(([id, role]) => [id, role.policies]));
    assert.deepEqual(Object.keys(sandbox).sort(), Object.keys(packaged).sort());
    assert.deepEqual(sandbox, packaged);
  });

  it('every function runs with the role the template gives it', () => {
    for (const fn of model.functions) {
      const logicalId = `${fn.key[0]!.toUpperCase()}${fn.key.slice(1)}LambdaFunction`;
      const role = template.Resources[logicalId]!.Properties.Role;
      assert.deepEqual(role, { 'Fn::GetAtt': [fn.role, 'Arn'] }, fn.key);
    }
  });
});
