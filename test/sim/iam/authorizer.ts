import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { randomUUID } from 'node:crypto';
import { ACCOUNT_SERVICES } from '../aws/account.js';
import type { CloudCall } from '../aws/cloud.js';
import { runningInvocation } from '../lambda.js';
import { installSdkGate, type SdkCall } from '../sdk-gate.js';
import type { ServerlessModel } from '../serverless-config.js';
import { type Denial, denialError, denialMessage } from './denial.js';
import { type AuthRequest, authRequests, type RequestScope } from './requests.js';
import { type SimRole, templateRoles } from './template-roles.js';

/**
 * IAM for the sandbox: every AWS call a function makes is authorized against its execution
 * role's policies as the packaged template declares them (template-roles.ts), and so is every
 * invocation a state machine or a schedule makes with its role — evaluated by
 * @cloud-copilot/iam-simulate (AGPL-3.0: a devDependency of the tests, never bundled).
 *
 * One call asks as many questions as AWS would ask (requests.ts): each resource it acts on,
 * and AWS's implicit checks on the caller's behalf. The first denied one fails the call the
 * way the service fails it (denial.ts), before it reaches the service: nothing changes.
 *
 * What is not evaluated: calls made outside a Lambda invocation (the scenario's own, the
 * operator's CLI — principals this template does not deploy); resource-based policies (the
 * Lambda permissions the framework writes for EventBridge rules and the function URL); SCPs,
 * permission boundaries and session policies of the deployer's organisation; CloudWatch Logs
 * (the Lambda runtime writes them, not the handler).
 */
export interface IamDecision {
  at: number;
  /** the role's logical id (RollStepRole), and who used it (function key, state machine, schedule) */
  role: string;
  /** a member role's account and region (`444455556666/eu-west-1`); absent for the hub's roles */
  member?: string;
  caller: string;
  request: AuthRequest;
  result: 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';
}

export interface IamCounts {
  /** calls (and invocations) every one of whose questions IAM allowed */
  allowed: number;
  denied: number;
}

export class SimIam {
  readonly roles: Map<string, SimRole>;
  readonly counts: IamCounts = { allowed: 0, denied: 0 };
  readonly denials: (IamDecision & { service: string; command: string; error: string; message: string })[] = [];
  /** every distinct question asked, with its answer: what test/sim/test/sim-iam.test.ts replays through iam-simulate's validating entry point */
  readonly asked = new Map<string, IamDecision>();
  private readonly cache = new Map<string, IamDecision['result']>();
  private readonly roleOfFunction: Map<string, string>;
  private readonly listeners: ((denial: SimIam['denials'][number]) => void)[] = [];
  private remove: (() => void) | undefined;

  constructor(
    private readonly model: ServerlessModel,
    private readonly scope: RequestScope,
    private readonly now: () => number,
    roles: Map<string, SimRole> = templateRoles(model),
    /** calls to the account services are routed by a SimCloud, which asks `authorizeCloudCall` once it knows their credentials */
    private readonly routed = false,
  ) {
    this.roles = roles;
    this.roleOfFunction = new Map(model.functions.flatMap((f) => (f.role ? [[f.key, f.role] as const, [f.name, f.role] as const] : [])));
  }

  /** Authorizes every SDK call made from a Lambda invocation, from now on. */
  install(): this {
    this.remove ??= installSdkGate((call) => this.gate(call));
    return this;
  }

  uninstall(): void {
    this.remove?.();
    this.remove = undefined;
  }

  onDenied(listener: (denial: SimIam['denials'][number]) => void): void {
    this.listeners.push(listener);
  }

  /** `IAM: 1843 calls allowed, 0 denied` */
  summary(): string {
    return `IAM: ${this.counts.allowed} calls allowed, ${this.counts.denied} denied`;
  }

  private gate(call: SdkCall): 'pass' | Error {
    const invocation = runningInvocation();
    if (!invocation) return 'pass';
    // another world's invocation: its own IAM answers it
    if (this.scope.lambda && invocation.lambda !== this.scope.lambda) return 'pass';
    if (this.routed && ACCOUNT_SERVICES.has(call.service)) return 'pass';
    const role = this.roleOfFunction.get(invocation.function);
    if (!role) throw new Error(`the sandbox's IAM: function ${invocation.function} names no role in serverless.yml`);
    const denied = this.check(role, `${invocation.function}`, call.service, call.command, authRequests(this.scope, call.service, call.command, (call.input ?? {}) as Record<string, any>));
    return denied ?? 'pass';
  }

  /**
   * A call a SimCloud routes (several accounts and regions): asked with the place it reaches
   * (its account's ARNs), against the member role of the session that signs it, or the
   * function's own role; calls from outside an invocation are not evaluated.
   */
  authorizeCloudCall(call: CloudCall): Error | undefined {
    const invocation = runningInvocation();
    if (!invocation || (this.scope.lambda && invocation.lambda !== this.scope.lambda)) return undefined;
    const requests = authRequests({ ...this.scope, account: call.account }, call.service, call.command, (call.input ?? {}) as Record<string, any>);
    if (call.session) {
      const role = (call.session as { role?: SimRole & { accountId: string; region: string } }).role;
      if (!role) throw new Error(`the sandbox's IAM: session ${call.session.arn} has no role`);
      return this.checkRole(role, `${role.accountId}/${role.region}`, call.session.arn, invocation.function, call.service, call.command, requests);
    }
    const role = this.roleOfFunction.get(invocation.function);
    if (!role) throw new Error(`the sandbox's IAM: function ${invocation.function} names no role in serverless.yml`);
    return this.check(role, invocation.function, call.service, call.command, requests);
  }

  /** The role a function runs as (its ARN, and its session's), as the template deploys it. */
  principalOf(functionKey: string): { roleArn: string; sessionArn: string } | undefined {
    const role = this.roles.get(this.roleOfFunction.get(functionKey) ?? '');
    return role && { roleArn: role.arn, sessionArn: `arn:aws:sts::${this.model.accountId}:assumed-role/${role.name}/${functionKey}` };
  }

  /**
   * Lambda's check when a state machine or a schedule invokes a function with its role
   * (`lambda:InvokeFunction` on the function's ARN): the error, or undefined when allowed.
   */
  authorizeInvoke(role: string, caller: string, functionArn: string): Error | undefined {
    return this.check(role, caller, 'lambda', 'Invoke', [{ action: 'lambda:InvokeFunction', resource: functionArn, context: {} }]);
  }

  /** Asks each question in turn; the first denial fails the call. */
  private check(roleId: string, caller: string, service: string, command: string, requests: readonly AuthRequest[]): Error | undefined {
    const role = this.roles.get(roleId);
    if (!role) throw new Error(`the sandbox's IAM: no role ${roleId} in the template`);
    return this.checkRole(role, undefined, `arn:aws:sts::${this.model.accountId}:assumed-role/${role.name}/${caller}`, caller, service, command, requests);
  }

  private checkRole(role: SimRole, member: string | undefined, principal: string, caller: string, service: string, command: string, requests: readonly AuthRequest[]): Error | undefined {
    for (const request of requests) {
      const result = this.decide(role, caller, request, member);
      if (result === 'Allowed') continue;
      this.counts.denied++;
      const denial: Denial = { principal, request, explicit: result === 'ExplicitlyDenied' };
      const error = denialError(service, denial, randomUUID());
      const record = { at: this.now(), role: role.logicalId, ...(member ? { member } : {}), caller, request, result, service, command, error: error.name, message: error.message || denialMessage(denial) };
      this.denials.push(record);
      for (const listener of this.listeners) listener(record);
      return error;
    }
    this.counts.allowed++;
    return undefined;
  }

  private decide(role: SimRole, caller: string, request: AuthRequest, member?: string): IamDecision['result'] {
    // a member role by its ARN (one logical id per place) and its logical id (a deleted role's sessions: `(deleted)`, no policy)
    const key = `${member ? `${role.arn} ${role.logicalId}` : role.logicalId}\n${request.action}\n${request.resource}\n${JSON.stringify(request.context)}`;
    let result = this.cache.get(key);
    if (result === undefined) {
      result = runUnsafeSimulation(
        {
          // the resource taken as the principal's account's: identity policies alone decide here (a
          // resource policy, as an AssumeRole's trust, is its service's to evaluate)
          request: { principal: role.arn, action: request.action, resource: { resource: request.resource, accountId: role.arn.split(':')[4]! }, contextVariables: request.context },
          identityPolicies: role.policies,
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      ) as IamDecision['result'];
      this.cache.set(key, result);
    }
    if (!this.asked.has(key)) this.asked.set(key, { at: this.now(), role: role.logicalId, ...(member ? { member } : {}), caller, request, result });
    return result;
  }
}
