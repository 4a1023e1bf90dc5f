/**
 * The sandbox target: a fresh `World` for each suite (the simulated account bound beneath the
 * real SDK clients' middleware, dynalite for DynamoDB, serverless.yml's Step Functions and
 * EventBridge), with production's rate limits off: the contract is about answers, not pacing.
 */
import { readFileSync } from 'node:fs';
import { awsScope } from '../../shared/aws/clients.js';
import { World } from '@eks-node-lifecycle/sandbox';
import { PUBLIC_PARAMETERS_FILE } from './moto-server.js';
import { contractClients, type ContractTarget, type ContractTargetFactory, drainMachine, REGION } from './target.js';

/**
 * The public parameters moto-launcher.py teaches moto, published here the way AWS publishes
 * them. They are for Kubernetes 1.30, a minor no suite launches nodes of: the sandbox boots a
 * managed node group from the recommended image its parameter names, and these name none it has.
 */
const PUBLIC_PARAMETERS = JSON.parse(readFileSync(PUBLIC_PARAMETERS_FILE, 'utf8')) as { Name: string; Value: string; DataType?: 'text' | 'aws:ec2:image' }[];

export function sandboxTargets(): ContractTargetFactory {
  return { name: 'sandbox', open: openSandboxAccount, shutdown: async () => undefined };
}

async function openSandboxAccount(): Promise<ContractTarget> {
  const world = await World.start({ throttling: {} });
  const { account } = world;
  for (const p of PUBLIC_PARAMETERS) account.ssm.publish(p.Name, p.Value, p.DataType ? { dataType: p.DataType } : {});
  // ordinary clients: the world answers every client of these classes (World.start set the region and DynamoDB's endpoint)
  const config = { region: REGION };
  const clients = contractClients(config);
  return {
    name: 'sandbox',
    clients,
    aws: awsScope(config),
    seed: {
      async network() {
        const vpc = account.seedVpc();
        return { vpcId: vpc.vpcId, subnetIds: vpc.subnets.map((s) => s.subnetId) };
      },
      async image(spec) {
        return account.ec2.registerImage({ name: spec.name, description: spec.description, architecture: spec.architecture }).image.ImageId;
      },
      async cluster(name, version) {
        // with its Kubernetes API server: a managed node group is ACTIVE once its nodes join (the subnets are the VPC's, all of them)
        await world.addCluster(name, { version });
      },
      async nodeRole(name, policyArns) {
        const arn = `arn:aws:iam::${account.accountId}:role/${name}`;
        account.iam.putNodeRole(arn, policyArns);
        account.iam.addInstanceProfile(name, arn);
        return arn;
      },
      async secureString(name, value) {
        account.ssm.putSecureString(name, value);
      },
      async drainStateMachine() {
        return drainMachine().arn;
      },
    },
    settle: () => world.settle(),
    close: async () => {
      for (const client of Object.values(clients)) client.destroy();
      await world.stop();
    },
  };
}
