import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { before, describe, it } from 'node:test';
import { loadServerlessModel, PROJECT_ROOT } from '@eks-node-lifecycle/sandbox';
import { type CloudFormationTemplate, PACKAGE_STAGE, packageService, packageWithParams, VPC_PARAMS } from './packaged-service.js';

const require = createRequire(import.meta.url);
const { buildsKubeClients } = require('../../scripts/deploy/kubernetes-facing.cjs') as { buildsKubeClients: (root: string, module: string) => boolean };
const { vpcSettings } = require('../../scripts/deploy/vpc.cjs') as { vpcSettings: (settings: { subnetIds?: string; securityGroupIds?: string }) => unknown };

/**
 * Private clusters (scripts/deploy/vpc.cjs): with `vpcSubnetIds` and `vpcSecurityGroupIds`, the
 * functions that build Kubernetes clients run in the VPC and their roles may manage the network
 * interfaces Lambda creates for them; without, nothing of it is in the template. The IAM of the
 * VPC variant is audited in least-privilege.slow.test.ts.
 */
type Resources = CloudFormationTemplate['Resources'];
const model = loadServerlessModel({ stage: PACKAGE_STAGE, region: 'eu-west-1', params: { managedClusters: '*' } });
const logicalIdOf = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction`;
const roleOf = (resources: Resources, key: string) => resources[logicalIdOf(key)]!.Properties.Role['Fn::GetAtt'][0] as string;
const NETWORK_ACTIONS = ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'];
const grantsNetwork = (role: Resources[string]) => NETWORK_ACTIONS.some((a) => JSON.stringify(role.Properties.Policies ?? []).includes(`"${a}"`));

/** by the rule of kubernetes-facing.cjs, the one grant-access.sh's roles follow too */
const kubernetesFacing = model.functions.filter((f) => buildsKubeClients(PROJECT_ROOT, f.module)).map((f) => f.key);

describe('Deployable package: private clusters (vpcSubnetIds, vpcSecurityGroupIds)', () => {
  it('finds the functions that talk to clusters: the node check, the drain, the rollout steps that read the cluster, the promotion step (workload health), doctor\'s probe', () => {
    assert.deepEqual([...kubernetesFacing].sort(), ['checkNodeReady', 'doctorProbe', 'drainStep', 'prepareLaunchTemplate', 'promotionStep', 'requestDrain', 'rollStep', 'rolloutPreflight']);
  });

  it('the README names an endpoint for every AWS service those functions build a client for', () => {
    const ENDPOINT: Record<string, string> = { EC2: 'com.amazonaws.<region>.ec2', EKS: 'com.amazonaws.<region>.eks', AutoScaling: 'com.amazonaws.<region>.autoscaling', SFN: 'com.amazonaws.<region>.states', EventBridge: 'com.amazonaws.<region>.events', DynamoDB: 'com.amazonaws.<region>.dynamodb', IAM: 'com.amazonaws.iam', SSM: 'com.amazonaws.<region>.ssm', Lambda: '.lambda', STS: 'com.amazonaws.<region>.sts', CloudWatch: 'com.amazonaws.<region>.monitoring' };
    // the SDK packages the handler's modules import, following its relative imports (clients are built in shared/aws/ adapters)
    const SERVICE_OF: Record<string, string> = { ec2: 'EC2', eks: 'EKS', 'auto-scaling': 'AutoScaling', sfn: 'SFN', eventbridge: 'EventBridge', dynamodb: 'DynamoDB', iam: 'IAM', ssm: 'SSM', lambda: 'Lambda', sts: 'STS', cloudwatch: 'CloudWatch' };
    const clientsOf = (module: string) => {
      const seen = new Set<string>();
      const services = new Set<string>();
      const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        const source = readFileSync(file, 'utf8');
        for (const m of source.matchAll(/import\s+(type\s+)?\{[^}]*\}\s+from\s+'@aws-sdk\/client-([\w-]+)'/g)) if (!m[1]) services.add(SERVICE_OF[m[2]!] ?? m[2]!);
        for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) visit(join(dirname(file), `${m[1]}.ts`));
      };
      visit(join(PROJECT_ROOT, `${module}.ts`));
      return [...services];
    };
    const services = new Set(model.functions.filter((f) => kubernetesFacing.includes(f.key)).flatMap((f) => clientsOf(f.module)));
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Private clusters'), readme.indexOf('### Operations'));
    assert.deepEqual([...services].filter((s) => !ENDPOINT[s]), [], 'a client this test does not know: add its endpoint');
    for (const service of services) assert.ok(section.includes(ENDPOINT[service]!), `README "Private clusters" names ${ENDPOINT[service]} (${service})`);
    assert.ok(services.has('EKS') && services.has('EC2'));
  });

  describe('with both params', () => {
    let resources: Resources;
    before(async () => {
      const out = await packageWithParams(VPC_PARAMS);
      assert.ok(out.ok, out.ok ? '' : out.output);
      resources = out.template.Resources;
    });

    it('puts exactly the Kubernetes-facing functions in the VPC, with the subnets and security groups given', () => {
      const inVpc = model.functions.filter((f) => resources[logicalIdOf(f.key)]!.Properties.VpcConfig).map((f) => f.key);
      assert.deepEqual(inVpc.sort(), [...kubernetesFacing].sort());
      for (const key of kubernetesFacing) {
        assert.deepEqual(resources[logicalIdOf(key)]!.Properties.VpcConfig, { SubnetIds: VPC_PARAMS.vpcSubnetIds.split(','), SecurityGroupIds: [VPC_PARAMS.vpcSecurityGroupIds] }, key);
      }
    });

    it('lets exactly their roles manage the network interfaces Lambda creates for them, in the role itself (there before the function)', () => {
      const roles = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
      const granted = roles.filter(([, r]) => grantsNetwork(r)).map(([id]) => id);
      assert.deepEqual(granted.sort(), kubernetesFacing.map((k) => roleOf(resources, k)).sort());
      for (const id of granted) {
        const policy = resources[id]!.Properties.Policies.find((p: { PolicyName: string }) => p.PolicyName === 'vpc-network-interfaces');
        const actions = policy.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()).sort();
        assert.deepEqual(actions, [...NETWORK_ACTIONS, 'ec2:DescribeSubnets'].sort(), id);
      }
    });
  });

  describe('without them (the default)', () => {
    let resources: Resources;
    before(async () => {
      resources = (await packageService()).template.Resources;
    });

    it('puts no function in a VPC and grants no network-interface action', () => {
      for (const fn of model.functions) assert.equal(resources[logicalIdOf(fn.key)]!.Properties.VpcConfig, undefined, fn.key);
      for (const [id, r] of Object.entries(resources)) if (r.Type === 'AWS::IAM::Role') assert.ok(!grantsNetwork(r), id);
    });
  });

  describe('refuses, naming the param', () => {
    // at package time: nothing half-placed is ever built
    const halves: [string, Record<string, string>, RegExp][] = [
      ['subnets without security groups', { vpcSubnetIds: VPC_PARAMS.vpcSubnetIds }, /vpcSecurityGroupIds is empty while vpcSubnetIds is set/],
      ['security groups without subnets', { vpcSecurityGroupIds: VPC_PARAMS.vpcSecurityGroupIds }, /vpcSubnetIds is empty while vpcSecurityGroupIds is set/],
    ];
    for (const [what, params, message] of halves) {
      it(what, async () => {
        const out = await packageWithParams(params);
        assert.equal(out.ok, false);
        assert.match(out.ok ? '' : out.output, message);
      });
    }

    it('ids that are not subnet or security group ids, and more than Lambda takes (the check the package runs)', () => {
      const check = (subnetIds: string, securityGroupIds: string) => (vpcSettings({ subnetIds, securityGroupIds }) as { error?: string } | undefined)?.error;
      assert.match(check('private-a', VPC_PARAMS.vpcSecurityGroupIds)!, /^vpcSubnetIds: "private-a" is not a subnet id/);
      assert.match(check(VPC_PARAMS.vpcSubnetIds, 'subnet-0a1b2c3d4e5f60718')!, /^vpcSecurityGroupIds: "subnet-0a1b2c3d4e5f60718" is not a security group id/);
      assert.match(check(Array.from({ length: 17 }, (_, i) => `subnet-${String(i).padStart(8, '0')}`).join(','), VPC_PARAMS.vpcSecurityGroupIds)!, /at most 16/);
      assert.match(check(VPC_PARAMS.vpcSubnetIds, Array.from({ length: 6 }, (_, i) => `sg-${String(i).padStart(8, '0')}`).join(','))!, /at most 5/);
      assert.equal(vpcSettings({ subnetIds: ' ', securityGroupIds: '' }), undefined, 'blank is unset');
      assert.deepEqual(vpcSettings({ subnetIds: ` ${VPC_PARAMS.vpcSubnetIds} `, securityGroupIds: VPC_PARAMS.vpcSecurityGroupIds }), { subnetIds: VPC_PARAMS.vpcSubnetIds.split(','), securityGroupIds: [VPC_PARAMS.vpcSecurityGroupIds] });
    });
  });
});
