'use strict';

const { buildsKubeClients, handlerModule } = require('./kubernetes-facing.cjs');

/**
 * Private clusters (the `vpcSubnetIds` and `vpcSecurityGroupIds` params, README "Private
 * clusters"): the functions that talk to clusters — found by the rule of kubernetes-facing.cjs,
 * not listed — are put in the VPC, and their roles get what Lambda needs to manage the
 * functions' network interfaces there. Without the params nothing changes: no VpcConfig, no
 * permission.
 *
 * The permissions are those of the AWS managed policy AWSLambdaVPCAccessExecutionRole
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html, "Required IAM
 * permissions"), written out rather than attached so that the least-privilege audit reads them
 * and so that they are narrower: the managed policy grants them, and logs writes, on every
 * resource. Here the network-interface writes name the account's network interfaces, and
 * CreateNetworkInterface also the given subnets and security groups; DescribeNetworkInterfaces
 * and DescribeSubnets take no resource types (the Lambda guide: DescribeNetworkInterfaces "only
 * works if it's allowed on all resources"). Logs stay as each role already has them (its own
 * log group).
 *
 * Inline in each role (not a separate AWS::IAM::Policy) so that it exists before the function:
 * Lambda checks the role when the function is created with a VpcConfig, and the function waits
 * for its role (Fn::GetAtt), not for a policy resource.
 */

const SUBNET = /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SECURITY_GROUP = /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/;
/** Lambda's limits on a function's VpcConfig (Lambda API reference, VpcConfig) */
const MAX_SUBNETS = 16;
const MAX_SECURITY_GROUPS = 5;

const list = (value) =>
  String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/**
 * The functions' VPC settings from `custom.vpc` (`subnetIds`, `securityGroupIds`, each a
 * comma-separated string): undefined when neither is set, else both lists; a wrong setting is
 * `{ error }`, naming the param. The sandbox reads the params through this too.
 */
function vpcSettings(settings = {}) {
  const subnetIds = list(settings.subnetIds);
  const securityGroupIds = list(settings.securityGroupIds);
  if (subnetIds.length === 0 && securityGroupIds.length === 0) return undefined;
  const both = 'the Kubernetes-facing functions are put in a VPC with both params (the subnets their network interfaces go in, the security groups those get) or with neither';
  if (securityGroupIds.length === 0) return { error: `vpcSecurityGroupIds is empty while vpcSubnetIds is set: ${both}` };
  if (subnetIds.length === 0) return { error: `vpcSubnetIds is empty while vpcSecurityGroupIds is set: ${both}` };
  const badSubnet = subnetIds.find((s) => !SUBNET.test(s));
  if (badSubnet) return { error: `vpcSubnetIds: "${badSubnet}" is not a subnet id (subnet-…); give a comma-separated list` };
  const badGroup = securityGroupIds.find((s) => !SECURITY_GROUP.test(s));
  if (badGroup) return { error: `vpcSecurityGroupIds: "${badGroup}" is not a security group id (sg-…); give a comma-separated list` };
  if (subnetIds.length > MAX_SUBNETS) return { error: `vpcSubnetIds: ${subnetIds.length} subnets, Lambda takes at most ${MAX_SUBNETS}` };
  if (securityGroupIds.length > MAX_SECURITY_GROUPS) return { error: `vpcSecurityGroupIds: ${securityGroupIds.length} security groups, Lambda takes at most ${MAX_SECURITY_GROUPS}` };
  return { subnetIds: [...new Set(subnetIds)], securityGroupIds: [...new Set(securityGroupIds)] };
}

/** The statements of AWSLambdaVPCAccessExecutionRole this service needs, scoped (see above). */
function networkInterfaceStatements({ subnetIds, securityGroupIds }) {
  const ec2 = (resource) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:${resource}` });
  return [
    { Sid: 'VpcDescribeNetwork', Effect: 'Allow', Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], Resource: '*' },
    {
      Sid: 'VpcCreateNetworkInterfaces',
      Effect: 'Allow',
      Action: 'ec2:CreateNetworkInterface',
      Resource: [ec2('network-interface/*'), ...subnetIds.map((id) => ec2(`subnet/${id}`)), ...securityGroupIds.map((id) => ec2(`security-group/${id}`))],
    },
    {
      Sid: 'VpcManageNetworkInterfaces',
      Effect: 'Allow',
      Action: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      Resource: ec2('network-interface/*'),
    },
  ];
}

class Vpc {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.placeInVpc() };
  }

  placeInVpc() {
    const service = this.serverless.service;
    const settings = vpcSettings(service.custom?.vpc ?? {});
    if (settings === undefined) return;
    if (settings.error) throw new this.serverless.classes.Error(settings.error, 'INVALID_VPC_PARAMS');

    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const naming = this.serverless.getProvider('aws').naming;
    // the roles of serverless.yml's resources join the template after this hook (package:finalize merges them)
    const declared = { ...(service.resources?.Resources ?? {}), ...resources };
    const root = this.serverless.serviceDir ?? this.serverless.config.servicePath;
    const statements = networkInterfaceStatements(settings);
    for (const name of service.getAllFunctions()) {
      if (!buildsKubeClients(root, handlerModule(service.getFunction(name).handler))) continue;
      const fn = resources[naming.getLambdaLogicalId(name)];
      fn.Properties.VpcConfig = { SubnetIds: settings.subnetIds, SecurityGroupIds: settings.securityGroupIds };
      const roleId = fn.Properties.Role?.['Fn::GetAtt']?.[0];
      const role = roleId && declared[roleId];
      if (!role) throw new this.serverless.classes.Error(`${name} talks to clusters but names no role of the template: it cannot be given the VPC permissions`, 'VPC_ROLE_MISSING');
      const policies = (role.Properties.Policies ??= []);
      if (!policies.some((p) => p.PolicyName === 'vpc-network-interfaces')) policies.push({ PolicyName: 'vpc-network-interfaces', PolicyDocument: { Version: '2012-10-17', Statement: statements } });
    }
  }
}

module.exports = Vpc;
module.exports.vpcSettings = vpcSettings;
