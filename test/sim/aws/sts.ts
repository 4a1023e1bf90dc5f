/**
 * STS: who the code under test is. The sandbox runs as an assumed role, like a Lambda
 * function's execution role.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { SimAccount } from './account';
import { route, type Route } from './routes';

export class StsService {
  readonly roleName = 'eks-node-lifecycle-sandbox';
  readonly sessionName = 'sandbox';
  readonly roleId: string;

  constructor(private readonly account: SimAccount) {
    this.roleId = `AROA${account.ids.upper(17)}`;
  }

  get callerArn(): string {
    return `arn:aws:sts::${this.account.accountId}:assumed-role/${this.roleName}/${this.sessionName}`;
  }

  get roleArn(): string {
    return `arn:aws:iam::${this.account.accountId}:role/${this.roleName}`;
  }

  routes(): Route[] {
    return [
      route('sts', GetCallerIdentityCommand, () => ({
        Account: this.account.accountId,
        Arn: this.callerArn,
        UserId: `${this.roleId}:${this.sessionName}`,
      })),
    ];
  }
}
