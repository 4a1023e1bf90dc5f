/**
 * The moto target: the real SDK clients, their serializers and retry strategy included, over
 * HTTP to a moto server on a free loopback port. One server per test file, reset for each suite.
 */
import { CopyImageCommand, CreateSubnetCommand, CreateVpcCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand } from '@aws-sdk/client-eks';
import { AddRoleToInstanceProfileCommand, AttachRolePolicyCommand, CreateInstanceProfileCommand, CreateRoleCommand } from '@aws-sdk/client-iam';
import { CreateStateMachineCommand } from '@aws-sdk/client-sfn';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { awsScope } from '../../shared/aws/clients.js';
import { createTables } from '@eks-node-lifecycle/sandbox';
import { startMoto, type MotoServer } from './moto-server.js';
import { contractClients, type ContractTarget, type ContractTargetFactory, drainMachine, MODEL, REGION } from './target.js';

/** moto's default account (it derives none from these keys). */
export const MOTO_ACCOUNT = '123456789012';
const TRUST_EC2 = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

export function motoTargets(): ContractTargetFactory {
  let server: Promise<MotoServer> | undefined;
  return {
    name: 'moto',
    async open() {
      server ??= startMoto();
      const moto = await server;
      await moto.reset();
      return openMotoAccount(moto.endpoint);
    },
    async shutdown() {
      if (server) await (await server).stop();
    },
  };
}

async function openMotoAccount(endpoint: string): Promise<ContractTarget> {
  const config = { region: REGION, endpoint, credentials: { accessKeyId: 'AKIACONTRACTMOTO0000', secretAccessKey: 'contract' } };
  const clients = contractClients(config);
  await createTables(MODEL, clients.dynamodb);
  // the adapters build their clients from a scope, which names no endpoint: the SDK's own variable sends them to moto
  process.env.AWS_ENDPOINT_URL = endpoint;
  return {
    name: 'moto',
    clients,
    aws: awsScope({ region: REGION, credentials: config.credentials }),
    seed: {
      async network() {
        const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
        const vpcId = vpc.Vpc!.VpcId!;
        const subnetIds: string[] = [];
        for (const [i, zone] of ['a', 'b', 'c'].entries()) {
          const subnet = await clients.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.0.${i * 64}.0/18`, AvailabilityZone: `${REGION}${zone}` }));
          subnetIds.push(subnet.Subnet!.SubnetId!);
        }
        return { vpcId, subnetIds };
      },
      async image(spec) {
        // moto's RegisterImage keeps Name and Description only (Architecture is lost): copy one
        // of its own Amazon images of the architecture instead, which makes an image of ours
        const source = await clients.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'architecture', Values: [spec.architecture] }] }));
        const from = source.Images?.find((i) => i.Architecture === spec.architecture && i.Platform === undefined);
        if (!from) throw new Error(`moto has no Amazon ${spec.architecture} Linux image to copy`);
        const out = await clients.ec2.send(new CopyImageCommand({ SourceImageId: from.ImageId, SourceRegion: REGION, Name: spec.name, Description: spec.description }));
        return out.ImageId!;
      },
      async cluster(name, version, subnetIds) {
        await clients.eks.send(
          new CreateClusterCommand({ name, version, roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/${name}-cluster`, resourcesVpcConfig: { subnetIds: [...subnetIds] } }),
        );
      },
      async nodeRole(name, policyArns) {
        const role = await clients.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: TRUST_EC2 }));
        for (const PolicyArn of policyArns) await clients.iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn }));
        await clients.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name }));
        await clients.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }));
        return role.Role!.Arn!;
      },
      async secureString(name, value) {
        await clients.ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString' }));
      },
      async drainStateMachine() {
        const machine = drainMachine();
        const out = await clients.sfn.send(
          new CreateStateMachineCommand({ name: machine.name, definition: JSON.stringify(machine.definition), roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/${machine.name}` }),
        );
        return out.stateMachineArn!;
      },
    },
    settle: async () => undefined,
    close: async () => {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}
