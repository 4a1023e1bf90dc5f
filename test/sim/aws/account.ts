/**
 * The simulated AWS account: every service's state, the EventBridge events it emits, and
 * the binding that puts it behind the real SDK v3 clients.
 *
 * `bind()` answers every call of the client classes (EC2Client, AutoScalingClient, EKSClient,
 * SSMClient, STSClient, IAMClient, CloudWatchClient) from inside the SDK's own middleware stack (../sdk-stack.ts):
 * every client instance anywhere in the process talks to this account, and the SDK's
 * serializer, signing and standard retries run for real around it. Each call is logged in
 * `calls`; each attempt (retries included) may be throttled (`throttling`) or failed through
 * `faults` — with a service's error or a network failure — and is otherwise answered by the
 * service's handler; commands without a handler reject with SandboxNotImplementedError.
 * Responses are deep copies: callers cannot reach into the account's state.
 */
import type { HttpRequest } from '@smithy/protocol-http';
import { CallIdentities, type CallIdentity } from '../call-identity';
import type { VirtualClock } from '../clock';
import { InvocationSleeps } from '../invocation-sleeps';
import { SDK_CLIENTS, type SdkService } from '../sdk-gate';
import { bindSdkModel, type ClientClass, type SandboxCall, type SdkClient, type SdkModel } from '../sdk-stack';
import { type BadImage, recordBadImage, seedAmiCatalogue, type CatalogueOptions } from './ami-catalogue';
import { AutoScalingService } from './autoscaling';
import {
  createManagedNodegroup,
  createSelfManagedGroup,
  seedVpc,
  type ManagedNodegroupSpec,
  type SeededVpc,
  type SelfManagedGroup,
  type SelfManagedGroupSpec,
} from './builders';
import { Ec2Service } from './ec2';
import { EksService } from './eks';
import { AccountState, type AccountStateOptions, type CallerContext, type TimelineEntry, type TimelineSource } from './account-state';
import { SandboxNotImplementedError, throttlingError, type ServiceName } from './errors';
import type { AwsEvent } from './events';
import { IamService, iamThrottling, type IamRoute } from './iam';
import { drawsFor, type IdFactory } from './ids';
import { Kubelet, type KubeletNote } from './kubelet';
import { connectionReset, dnsFailure, halfWrittenResponse, socketTimeout, type AwsNetworkFault } from './network-errors';
import type { NodeRegistryLookup } from './node-registry';
import type { Route } from './routes';
import { SsmService } from './ssm';
import { CloudWatchService } from './cloudwatch';
import { StsService } from './sts';
import { AwsThrottling } from './throttling';
import type { Nodegroup } from '@aws-sdk/client-eks';

export interface SimAccountOptions extends AccountStateOptions {
  /** Seed the public AMI catalogue (EC2 images + SSM parameters); default true. */
  catalogue?: boolean | CatalogueOptions;
}

/** The services behind `calls` and `faults`: those of errors.ts, and IAM (see iam.ts). */
export type AccountServiceName = ServiceName | 'iam';

export interface CallRecord {
  service: AccountServiceName;
  /** `DescribeInstances` (without `Command`). */
  command: string;
  input: unknown;
  /** Virtual time of the call (ms since epoch). */
  at: number;
  /** The error name when the call failed (fault or service error), as its caller saw it after the SDK's retries. */
  error?: string;
  /** Attempts the SDK made (1 unless it retried), once the call is over. */
  attempts?: number;
  /**
   * Virtual time of each attempt as it reached the account (ms since epoch): after the caller's
   * own pacing (a request budget's wait) and the SDK's retry backoffs, so later than `at` —
   * what a request rate per second is counted from.
   */
  sent?: number[];
  /**
   * The service carried it out (an attempt's handler answered), whatever its caller saw after:
   * an answer cut short or never delivered does not undo a write.
   */
  acted?: true;
  /** the function whose invocation made it (absent for the scenario's own calls) */
  caller?: string;
}

/** An attempt that fails on the network instead of being answered (network-errors.ts). */
export interface NetworkFault {
  network: AwsNetworkFault;
}

/** What a fault rule is told about the attempt it may fail. */
export interface FaultedAttempt {
  service: AccountServiceName;
  command: string;
  /** how many attempts of this command the account has been asked for, this one included */
  attempt: number;
  /** the call's identity (call-identity.ts), the same in every run: what seeded draws key on */
  call: string;
  /** 1 for the call's first try, 2 for the SDK's first retry, … */
  attemptOfCall: number;
}

/**
 * Returns an error to fail the attempt with (a service's: the SDK may retry it, as it would
 * the real one), a network failure, or undefined to let it through.
 */
export type FaultRule = (input: unknown, attempt: FaultedAttempt) => Error | NetworkFault | undefined;

/**
 * Fault injection by command name: `DescribeInstances` (either service's command of that
 * name), `autoscaling:DescribeTags` (one service's), or `*` (every command). Rules see every
 * attempt, the SDK's retries included.
 */
export class FaultInjector {
  private readonly rules = new Map<string, FaultRule>();
  private readonly attempts = new Map<string, number>();

  set(command: string, rule: FaultRule): this {
    this.rules.set(normalize(command), rule);
    return this;
  }

  delete(command: string): boolean {
    return this.rules.delete(normalize(command));
  }

  clear(): void {
    this.rules.clear();
  }

  /**
   * Fails the next `times` attempts of `command` with the service's throttling error. The SDK
   * retries a throttled attempt: a call fails only once all its attempts are (3 by default).
   */
  throttle(command: string, times = Number.POSITIVE_INFINITY): this {
    let left = times;
    return this.set(command, (_input, call) => (left-- > 0 ? accountThrottlingError(call.service) : undefined));
  }

  check(service: AccountServiceName, command: string, input: unknown, call: { call: string; attemptOfCall: number }): Error | NetworkFault | undefined {
    const key = `${service}:${command}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    for (const name of [key, command, '*']) {
      const rule = this.rules.get(name);
      const fault = rule?.(input, { service, command, attempt, ...call });
      if (fault) return fault;
    }
    return undefined;
  }
}

/** The error each of the account's services throttles with, IAM's included. */
export function accountThrottlingError(service: AccountServiceName): Error {
  return service === 'iam' ? iamThrottling() : throttlingError(service);
}

function normalize(command: string): string {
  return command.replace(/Command$/, '');
}

const READ_ONLY = /^(Describe|List|Get)/;
/** The services the account simulates itself; the others are the sandbox's own or DynamoDB's. */
export const ACCOUNT_SERVICES: ReadonlySet<SdkService> = new Set(['ec2', 'autoscaling', 'eks', 'ssm', 'sts', 'iam', 'cloudwatch']);
const HOUR = 3_600_000;
/** The client classes of the services the account simulates. */
export const ACCOUNT_CLIENTS = SDK_CLIENTS.filter(([, service]) => ACCOUNT_SERVICES.has(service)) as unknown as [ClientClass, string][];

/** One call as the account answers it: its log entry, who made it, its route. */
export interface AccountCall extends SandboxCall {
  record: CallRecord;
  identity: CallIdentity;
  route: Route | IamRoute | undefined;
  /** who makes it, when a SimCloud routed it here (its STS session, if any) */
  caller?: CallerContext;
}

/** The account's answers to SDK calls, with who makes each (a SimCloud knows). */
export interface AccountModel extends Omit<SdkModel<AccountCall>, 'begin'> {
  begin(service: string, command: string, input: unknown, caller?: CallerContext): AccountCall;
}

/** Listens to calls as they end: the log entry, and the error their caller saw. */
export type CallListener = (call: CallRecord, error: unknown) => void;

export class SimAccount {
  /** What the services share (account-state.ts); clock, ids, log, events and the rest are its, kept here for the account's users. */
  readonly state: AccountState;
  readonly clock: VirtualClock;
  readonly region: string;
  readonly accountId: string;
  readonly ids: IdFactory;
  readonly calls: CallRecord[] = [];
  readonly log: TimelineEntry[];
  /** Every event emitted, in order (also handed to `emit`). */
  readonly events: AwsEvent[];
  readonly faults = new FaultInjector();
  /** AWS's request throttling, each attempt drawing from its buckets; off until `throttling.enable()` (throttling.ts) */
  readonly throttling: AwsThrottling;
  /**
   * The call being answered right now, while its handler runs (handlers are synchronous):
   * what an observer of a state change reads to tell "our call did it" from "a timer did".
   */
  get activeCall(): CallRecord | undefined {
    return this.answering;
  }
  private answering: CallRecord | undefined;
  readonly nodes: NodeRegistryLookup;
  readonly sts: StsService;
  readonly ssm: SsmService;
  readonly cloudwatch: CloudWatchService;
  readonly ec2: Ec2Service;
  readonly autoscaling: AutoScalingService;
  readonly eks: EksService;
  readonly iam: IamService;
  readonly kubelet: Kubelet;
  private unbind: (() => void) | undefined;
  private readonly identities = new CallIdentities();
  private readonly sleeps: InvocationSleeps;
  /** errors the buckets refused with, to tell them from injected throttles */
  private readonly refusals = new WeakSet<object>();
  private readonly callListeners: CallListener[] = [];
  /** bind() put sandbox credentials in the environment, for restore() to take out */
  private unsetCredentials = false;
  private vpc: SeededVpc | undefined;

  constructor(options: SimAccountOptions) {
    const state = (this.state = new AccountState(options));
    ({ clock: this.clock, region: this.region, accountId: this.accountId, ids: this.ids, nodes: this.nodes, log: this.log, events: this.events } = state);
    this.throttling = new AwsThrottling(this.clock);
    this.sleeps = InvocationSleeps.of(this.clock);
    // order matters: later services subscribe to earlier ones (Auto Scaling and the kubelet to EC2)
    this.sts = new StsService(state);
    this.ssm = new SsmService(state);
    this.cloudwatch = new CloudWatchService(state);
    this.iam = new IamService(state); // before EC2, whose instance profiles it holds
    this.ec2 = new Ec2Service(state, this.iam, this.ssm);
    this.autoscaling = new AutoScalingService(state, this.ec2);
    // EKS asks the kubelet, built after it, whether a node joined
    this.eks = new EksService(state, { ec2: this.ec2, ssm: this.ssm, autoscaling: this.autoscaling, joins: { isJoined: (id) => this.kubelet.isJoined(id), nodeName: (id) => this.kubelet.nodeName(id) } });
    this.kubelet = new Kubelet(state, this.ec2, this.eks);
    if (options.catalogue !== false) seedAmiCatalogue(this, options.catalogue === true || options.catalogue === undefined ? {} : options.catalogue);
  }

  /** Who the sandbox's code runs as (STS GetCallerIdentity's Arn). */
  get callerArn(): string {
    return this.state.callerArn;
  }

  /** Why each instance did or did not join a cluster. */
  get kubeletNotes(): readonly KubeletNote[] {
    return this.kubelet.notes;
  }

  /**
   * Makes an image of this account's EC2 bad from now on (`releaseAmi`'s `badFor`, decided
   * later): nodes that join on it are bad, and so, at once, are the running nodes already on
   * it (kubelet.ts `imageMarkedBad`). Replaces an earlier mark; nothing in EC2 or SSM changes.
   */
  markImageBad(imageId: string, bad: BadImage): void {
    const spec = recordBadImage(this.ec2, imageId, bad);
    this.note('ec2', `${imageId} marked bad for ${spec.for} (the sandbox's doing: nothing in EC2 shows it)`);
    this.kubelet.imageMarkedBad(imageId);
  }

  /** Calls that may have changed something (everything but Describe*, List*, Get*). */
  writes(): CallRecord[] {
    return this.calls.filter((c) => !READ_ONLY.test(c.command));
  }

  // ---- SDK binding ----

  bind(): this {
    this.restore();
    const model = this.sdkModel();
    this.unbind = bindSdkModel(ACCOUNT_CLIENTS, { begin: (service, command, input) => model.begin(service, command, input), attempt: model.attempt, end: model.end });
    // what Lambda's environment always has; signing runs for real, so a client needs some
    if (!process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE) {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIASANDBOXACCOUNT00', AWS_SECRET_ACCESS_KEY: 'sandbox-account-secret' });
      this.unsetCredentials = true;
    }
    return this;
  }

  /**
   * What answers this account's calls, unbound: `bind()` puts it behind every client; a
   * SimCloud (cloud.ts) hands each call to the account of its origin, with its caller.
   */
  sdkModel(): AccountModel {
    const routes = new Map<string, Route | IamRoute>();
    for (const r of [...this.ec2.routes(), ...this.autoscaling.routes(), ...this.eks.routes(), ...this.ssm.routes(), ...this.cloudwatch.routes(), ...this.sts.routes(), ...this.iam.routes()]) routes.set(`${r.service}:${r.name}`, r);
    return {
      begin: (service, command, input, caller) => {
        const call = this.begin(service as AccountServiceName, command, input, routes.get(`${service}:${command}`));
        if (caller) call.caller = caller;
        return call;
      },
      attempt: (call, request, client) => this.attempt(call, request, client),
      end: (call, error) => this.end(call, error),
    };
  }

  restore(): void {
    this.unbind?.();
    this.unbind = undefined;
    if (this.unsetCredentials) {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      this.unsetCredentials = false;
    }
  }

  /** Follows calls as they end, after the SDK's retries; returns an unsubscribe. */
  onCallEnd(listener: CallListener): () => void {
    this.callListeners.push(listener);
    return () => {
      const i = this.callListeners.indexOf(listener);
      if (i >= 0) this.callListeners.splice(i, 1);
    };
  }

  private begin(service: AccountServiceName, command: string, input: unknown, route: Route | IamRoute | undefined): AccountCall {
    const record: CallRecord = { service, command, input: safeClone(input), at: this.clock.now() };
    this.calls.push(record);
    const identity = this.identities.next(`${service}:${command}`);
    if (identity.invocation) record.caller = identity.invocation.function;
    const jitter = drawsFor(this.throttling.seed, `${identity.key} retries`);
    return {
      service,
      command,
      input,
      attempts: 0,
      record,
      identity,
      route,
      jitter: () => jitter.next(),
      wait: (ms) => this.wait(identity, ms),
      holdStill: (work) => this.clock.actor(work),
    };
  }

  /**
   * Waits on the virtual clock for the invocation making the call, while the world runs; a
   * call from outside one (a scenario's own), or from one awaited outside `settle()`, does not
   * wait: nothing would let the time pass. An invocation Lambda has ended waits for ever: its
   * environment is frozen, its handler goes no further.
   */
  private async wait(identity: CallIdentity, ms: number): Promise<number> {
    const invocation = identity.invocation;
    if (!invocation || ms <= 0) return 0;
    if (!this.clock.settling) await new Promise((resolve) => setImmediate(resolve));
    if (!this.clock.settling) return 0;
    await this.sleeps.sleep(invocation, ms, invocation.ended);
    return ms;
  }

  /** One attempt: 1. the buckets; 2. the faults; 3. the service's answer. */
  private async attempt(call: AccountCall, request: HttpRequest, client: SdkClient): Promise<{ output: object; requestId: string }> {
    (call.record.sent ??= []).push(this.clock.now());
    const r = call.route;
    if (!r) throw new SandboxNotImplementedError(call.service as ServiceName, call.command);
    const requestId = this.ids.uuid();
    if (this.throttling.enabled && !(await this.throttling.attempt(r.service, r.name, call.input, call.identity, call.attempts))) {
      const refused = accountThrottlingError(r.service);
      this.refusals.add(refused);
      throw withRequestId(refused, requestId);
    }
    const fault = this.faults.check(r.service, r.name, call.input, { call: call.identity.key, attemptOfCall: call.attempts });
    if (fault instanceof Error) throw withRequestId(fault, requestId);
    if (fault) return this.failOnTheNetwork(fault.network, call, request, client, requestId);
    try {
      return { output: this.answer(r, call), requestId };
    } catch (error) {
      throw withRequestId(error as Error, requestId);
    }
  }

  /** The service's handler; its answer, copied. */
  private answer(r: Route | IamRoute, call: AccountCall): object {
    this.answering = call.record;
    this.state.caller = call.caller;
    try {
      const output = structuredClone(r.handle(call.input ?? {})) as object;
      call.record.acted = true;
      return output;
    } finally {
      this.answering = undefined;
      this.state.caller = undefined;
    }
  }

  /**
   * A network failure instead of the answer. A reset and a DNS failure happen before the
   * request reaches the service; a socket timeout and a half-written response after it acted
   * on it (the write happened, the caller never learnt it). A socket timeout takes the
   * client's own: its requestHandler's `socketTimeout`, or the SDK's service default when
   * that is on (AWS_ENABLE_DEFAULT_SOCKET_TIMEOUT_2026); with neither, the call never ends,
   * as a real one would not: its invocation sleeps on the clock until Lambda's timeout ends
   * it (a call from outside an invocation hangs for real).
   */
  private async failOnTheNetwork(kind: AwsNetworkFault, call: AccountCall, request: HttpRequest, client: SdkClient, requestId: string): Promise<never> {
    const acted = () => {
      try {
        this.answer(call.route!, call);
      } catch {
        // the service refused it; the caller learns that no more than it learns a success
      }
    };
    switch (kind) {
      case 'connection-reset':
        throw connectionReset();
      case 'dns-failure':
        throw dnsFailure(request.hostname);
      case 'half-written-response':
        acted();
        throw halfWrittenResponse(requestId);
      case 'socket-timeout': {
        acted();
        const timeout = await socketTimeoutOf(client);
        if (timeout === undefined) {
          while ((await call.wait(HOUR)) > 0);
          return new Promise<never>(() => undefined);
        }
        await call.wait(timeout.ms);
        throw socketTimeout(timeout.ms, timeout.serviceDefault);
      }
    }
  }

  private end(call: AccountCall, error?: unknown): void {
    call.record.attempts = call.attempts;
    if (error !== undefined) {
      call.record.error = (error as Error)?.name ?? 'Error';
      if (typeof error === 'object' && error !== null && this.refusals.has(error)) this.throttling.countFailedCall(call.record.service, call.record.command);
    }
    for (const listener of [...this.callListeners]) listener(call.record, error);
  }

  // ---- events and timeline ----

  publish(detailType: string, source: string, resources: string[], detail: object): void {
    this.state.publish(detailType, source, resources, detail);
  }

  note(source: TimelineSource, message: string, instanceId?: string): void {
    this.state.note(source, message, instanceId);
  }

  /** Follows the timeline as it is written (`source: message`); returns an unsubscribe. */
  onLog(listener: (message: string, entry: TimelineEntry) => void): () => void {
    return this.state.onLog(listener);
  }

  // ---- scenario builders ----

  /** A VPC with one subnet in each of three AZs (created once per account). */
  seedVpc(): SeededVpc {
    this.vpc ??= seedVpc(this);
    return this.vpc;
  }

  createSelfManagedGroup(spec: SelfManagedGroupSpec): SelfManagedGroup {
    return createSelfManagedGroup(this, spec);
  }

  createManagedNodegroup(spec: ManagedNodegroupSpec): Nodegroup {
    return createManagedNodegroup(this, spec);
  }
}

function safeClone(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}

/** The socket timeout the client's HTTP handler applies, if any (@smithy/node-http-handler's config). */
async function socketTimeoutOf(client: SdkClient): Promise<{ ms: number; serviceDefault: boolean } | undefined> {
  const handler = (client.config as { requestHandler?: { configProvider?: Promise<{ socketTimeout?: number; defaultSocketTimeout?: number }> } }).requestHandler;
  const config = await handler?.configProvider;
  if (config?.socketTimeout) return { ms: config.socketTimeout, serviceDefault: false };
  if (config?.defaultSocketTimeout) return { ms: config.defaultSocketTimeout, serviceDefault: true };
  return undefined;
}

function withRequestId(error: Error, requestId: string): Error {
  const metadata = (error as { $metadata?: { requestId?: string } }).$metadata;
  if (metadata && metadata.requestId === undefined) metadata.requestId = requestId;
  return error;
}
