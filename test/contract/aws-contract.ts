/** Every suite of the contract, for one target. */
import { autoScalingContract } from './suites/auto-scaling.js';
import { ec2Contract } from './suites/ec2.js';
import { eksContract, ssmIamContract } from './suites/eks-ssm-iam.js';
import { notInMotoContract } from './suites/not-in-moto.js';
import { dynamoContract, stepFunctionsEventsContract } from './suites/tables-workflows-events.js';
import type { ContractTargetFactory } from './target.js';

export function defineContract(factory: ContractTargetFactory): void {
  ec2Contract(factory);
  autoScalingContract(factory);
  eksContract(factory);
  ssmIamContract(factory);
  dynamoContract(factory);
  stepFunctionsEventsContract(factory);
  notInMotoContract(factory);
}
