/** Every suite of the contract, for one target. */
import { ec2Contract } from './suites/ec2.js';
import type { ContractTargetFactory } from './target.js';

export function defineContract(factory: ContractTargetFactory): void {
  ec2Contract(factory);
}
