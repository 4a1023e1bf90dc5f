/**
 * What the contract suite runs against: an AWS behind real SDK v3 clients, either moto (an
 * independent implementation, over HTTP) or the sandbox (test/sim). Both targets offer the
 * same clients and the same seeding; the suite seeds through ordinary SDK calls wherever both
 * answer them (launch templates, instances, Auto Scaling groups, node groups, tables), so the
 * seeding is itself part of the contract. `seed` holds only what one side cannot take as an
 * SDK call: the sandbox has no RegisterImage, CreateVpc, CreateCluster, IAM writes,
 * PutParameter or CreateStateMachine (its state machines are serverless.yml's).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { AwsScope } from '../../shared/aws/clients.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { loadServerlessModel } from '@eks-node-lifecycle/sandbox';

export type TargetName = 'moto' | 'sandbox';

export interface ContractClients {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  eks: EKSClient;
  ssm: SSMClient;
  iam: IAMClient;
  dynamodb: DynamoDBClient;
  sfn: SFNClient;
  eventbridge: EventBridgeClient;
}

/** One client of each service the product calls, all with this configuration. */
export function contractClients(config: { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } }): ContractClients {
  return {
    ec2: new EC2Client(config),
    autoscaling: new AutoScalingClient(config),
    eks: new EKSClient(config),
    ssm: new SSMClient(config),
    iam: new IAMClient(config),
    dynamodb: new DynamoDBClient(config),
    sfn: new SFNClient(config),
    eventbridge: new EventBridgeClient(config),
  };
}

export interface SeededNetwork {
  vpcId: string;
  /** one subnet in each of eu-west-1a, b and c */
  subnetIds: string[];
}

export interface ImageFixture {
  name: string;
  description: string;
  architecture: 'x86_64' | 'arm64';
}

export interface ContractSeeder {
  network(): Promise<SeededNetwork>;
  /** An image the account owns (`self`). */
  image(spec: ImageFixture): Promise<string>;
  /** An ACTIVE EKS cluster in these subnets. */
  cluster(name: string, version: string, subnetIds: readonly string[]): Promise<void>;
  /** A node role with the worker policies, in an instance profile of the same name; its ARN. */
  nodeRole(name: string, policyArns: readonly string[]): Promise<string>;
  /** One of the account's own SecureString parameters. */
  secureString(name: string, value: string): Promise<void>;
  /** The ARN of the node-drain state machine serverless.yml deploys. */
  drainStateMachine(): Promise<string>;
}

/** One fresh account: every suite opens its own and closes it. */
export interface ContractTarget {
  name: TargetName;
  /** the seeding's own clients */
  clients: ContractClients;
  /** where the product's adapters (shared/aws/) call: the same account */
  aws: AwsScope;
  seed: ContractSeeder;
  /** Lets the account's own background work run (the sandbox's clock); moto does it at once. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface ContractTargetFactory {
  name: TargetName;
  open(): Promise<ContractTarget>;
  /** After the last suite. */
  shutdown(): Promise<void>;
}

export const REGION = 'eu-west-1';

/** serverless.yml as deployed to the `sandbox` stage: the same table and state machine names on both sides. */
export const MODEL = loadServerlessModel({ stage: 'sandbox', region: REGION });

export const TABLES = {
  drains: tableNamed('drains'),
  rollouts: tableNamed('rollouts'),
  chatops: tableNamed('chatops'),
};

function tableNamed(suffix: string): string {
  const name = MODEL.tables.map((t) => String(t['TableName'])).find((n) => n.endsWith(`-${suffix}`));
  if (!name) throw new Error(`serverless.yml declares no ${suffix} table`);
  return name;
}

export function drainMachine() {
  const machine = MODEL.stateMachines.find((m) => m.name.endsWith('-node-drain'));
  if (!machine) throw new Error('serverless.yml declares no node-drain state machine');
  return machine;
}
