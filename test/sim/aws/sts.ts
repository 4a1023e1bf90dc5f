/**
 * STS: who the code under test is. The sandbox runs as an assumed role, like a Lambda
 * function's execution role.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { SANDBOX_ROLE, SANDBOX_SESSION, type AccountState } from './account-state';
import { SandboxNotImplementedError } from './errors';
import { route, type Route } from './routes';

export class StsService {
  readonly roleName = SANDBOX_ROLE;
  readonly sessionName = SANDBOX_SESSION;
  readonly roleId: string;

  constructor(private readonly account: AccountState) {
    this.roleId = `AROA${account.ids.upper(17)}`;
  }

  get callerArn(): string {
    return this.account.callerArn;
  }

  get roleArn(): string {
    return `arn:aws:iam::${this.account.accountId}:role/${this.roleName}`;
  }

  routes(): Route[] {
    return [
      route('sts', GetCallerIdentityCommand, () => {
        // with an assumed role's credentials: that session, in the role's account
        const session = this.account.caller?.session;
        if (session) return { Account: session.accountId, Arn: session.arn, UserId: session.userId };
        return { Account: this.account.accountId, Arn: this.callerArn, UserId: `${this.roleId}:${this.sessionName}` };
      }),
      route('sts', AssumeRoleCommand, (input) => {
        if (!this.account.stsAuthority) throw new SandboxNotImplementedError('sts', 'AssumeRole');
        return this.account.stsAuthority.assumeRole(input as Record<string, any>, this.account.caller ?? {}) as never;
      }),
    ];
  }
}
