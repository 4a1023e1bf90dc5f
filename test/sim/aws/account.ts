/**
 * The simulated AWS account: every service's state, the EventBridge events it emits, and
 * the binding that puts it behind the real SDK v3 clients.
 *
 * `bind()` replaces `send` on the client classes (EC2Client, AutoScalingClient, EKSClient,
 * SSMClient, STSClient, IAMClient) with aws-sdk-client-mock, so every client instance
 * anywhere in the process talks to this account. Each call is logged in `calls`, may be
 * failed through `faults`, and is answered by the service's handler; commands without a
 * handler reject with SandboxNotImplementedError. Responses are deep copies: callers cannot
 * reach into the account's state.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import type { MetadataBearer } from '@smithy/types';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { VirtualClock } from '../clock';
import { seedAmiCatalogue, type CatalogueOptions } from './ami-catalogue';
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
import { SandboxNotImplementedError, throttlingError, type ServiceName } from './errors';
import { eventTime, type AwsEvent, type EmitEvent } from './events';
import { IamService, iamThrottling, type IamRoute } from './iam';
import { IdFactory } from './ids';
import { Kubelet, type KubeletNote } from './kubelet';
import type { NodeRegistryLookup } from './node-registry';
import { commandName, type Route } from './routes';
import { SsmService } from './ssm';
import { StsService } from './sts';
import { AwsThrottling } from './throttling';
import type { Nodegroup } from '@aws-sdk/client-eks';

export interface SimAccountOptions {
  clock: VirtualClock;
  region?: string;
  accountId?: string;
  /** Receives every EventBridge event the account's services emit. */
  emit?: EmitEvent;
  /** The Kubernetes API of a cluster, for the kubelet; `undefined` = no API for it. */
  nodes?: NodeRegistryLookup;
  /** Seed of the id generator (ids are deterministic per seed). */
  seed?: number;
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
  /** The error name when the call failed (fault or service error). */
  error?: string;
}

export type TimelineSource = 'ec2' | 'autoscaling' | 'eks' | 'ssm' | 'kubelet' | 'sandbox';

export interface TimelineEntry {
  at: number;
  time: string;
  source: TimelineSource;
  message: string;
  instanceId?: string;
}

/** Returns an error to fail the call with, or undefined to let it through. */
export type FaultRule = (input: unknown, call: { service: AccountServiceName; command: string; attempt: number }) => Error | undefined;

/**
 * Fault injection by command name: `DescribeInstances` (either service's command of that
 * name), `autoscaling:DescribeTags` (one service's), or `*` (every command).
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

  /** Fails the next `times` calls of `command` with the service's throttling error. */
  throttle(command: string, times = Number.POSITIVE_INFINITY): this {
    let left = times;
    return this.set(command, (_input, call) => (left-- > 0 ? accountThrottlingError(call.service) : undefined));
  }

  check(service: AccountServiceName, command: string, input: unknown): Error | undefined {
    const key = `${service}:${command}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    for (const name of [key, command, '*']) {
      const rule = this.rules.get(name);
      const error = rule?.(input, { service, command, attempt });
      if (error) return error;
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

// the client classes' constructors differ; all we need is something mockClient accepts
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ClientClass = new (...args: any[]) => { send: unknown };

export class SimAccount {
  readonly clock: VirtualClock;
  readonly region: string;
  readonly accountId: string;
  readonly ids: IdFactory;
  readonly calls: CallRecord[] = [];
  readonly log: TimelineEntry[] = [];
  /** Every event emitted, in order (also handed to `emit`). */
  readonly events: AwsEvent[] = [];
  readonly faults = new FaultInjector();
  /** AWS's request throttling and the SDK's retries in front of it; off until `throttling.enable()` (throttling.ts) */
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
  readonly ec2: Ec2Service;
  readonly autoscaling: AutoScalingService;
  readonly eks: EksService;
  readonly iam: IamService;
  readonly kubelet: Kubelet;
  private readonly emitEvent: EmitEvent;
  private stubs: { restore(): void }[] = [];
  private readonly logListeners: ((message: string, entry: TimelineEntry) => void)[] = [];
  private vpc: SeededVpc | undefined;

  constructor(options: SimAccountOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'eu-west-1';
    this.accountId = options.accountId ?? '111122223333';
    this.emitEvent = options.emit ?? (() => undefined);
    this.nodes = options.nodes ?? (() => undefined);
    this.ids = new IdFactory(options.seed);
    this.throttling = new AwsThrottling(this.clock);
    // order matters: later services subscribe to earlier ones (Auto Scaling and the kubelet to EC2)
    this.sts = new StsService(this);
    this.ssm = new SsmService(this);
    this.iam = new IamService(this); // before EC2, whose instance profiles it holds
    this.ec2 = new Ec2Service(this);
    this.autoscaling = new AutoScalingService(this);
    this.eks = new EksService(this);
    this.kubelet = new Kubelet(this);
    if (options.catalogue !== false) seedAmiCatalogue(this, options.catalogue === true || options.catalogue === undefined ? {} : options.catalogue);
  }

  /** Who the sandbox's code runs as (STS GetCallerIdentity's Arn). */
  get callerArn(): string {
    return this.sts.callerArn;
  }

  /** Why each instance did or did not join a cluster. */
  get kubeletNotes(): readonly KubeletNote[] {
    return this.kubelet.notes;
  }

  /** Calls that may have changed something (everything but Describe*, List*, Get*). */
  writes(): CallRecord[] {
    return this.calls.filter((c) => !READ_ONLY.test(c.command));
  }

  // ---- SDK binding ----

  bind(): this {
    this.restore();
    const bindings: [ClientClass, (Route | IamRoute)[], AccountServiceName][] = [
      [EC2Client, this.ec2.routes(), 'ec2'],
      [AutoScalingClient, this.autoscaling.routes(), 'autoscaling'],
      [EKSClient, this.eks.routes(), 'eks'],
      [SSMClient, this.ssm.routes(), 'ssm'],
      [STSClient, this.sts.routes(), 'sts'],
      [IAMClient, this.iam.routes(), 'iam'],
    ];
    for (const [client, routes, service] of bindings) {
      const stub = mockClient(client as never) as AwsStub<object, MetadataBearer, unknown>;
      // anything without a route: fail loudly, naming the command
      stub.send.callsFake((command: { constructor: { name: string }; input: unknown }) => {
        const name = commandName(command.constructor);
        this.calls.push({ service, command: name, input: safeClone(command.input), at: this.clock.now(), error: 'SandboxNotImplementedError' });
        // the error names its service only in its message, which predates IAM
        return Promise.reject(new SandboxNotImplementedError(service as ServiceName, name));
      });
      for (const r of routes) stub.on(r.command as never).callsFake((input: unknown) => this.invoke(r, input));
      this.stubs.push(stub);
    }
    return this;
  }

  restore(): void {
    for (const stub of this.stubs) stub.restore();
    this.stubs = [];
  }

  private invoke(r: Route | IamRoute, input: unknown): Promise<unknown> {
    const call: CallRecord = { service: r.service, command: r.name, input: safeClone(input), at: this.clock.now() };
    this.calls.push(call);
    const requestId = this.ids.uuid();
    if (!this.throttling.enabled) return this.answer(r, input, call, requestId, { attempts: 1, totalRetryDelay: 0 });
    return this.throttling.admit(r.service, r.name, input).then((admission) => {
      if (admission.admitted) return this.answer(r, input, call, requestId, admission);
      const throttled = accountThrottlingError(r.service);
      // as the SDK reports a call it gave up on: every attempt and the time slept between them
      Object.assign((throttled as Error & { $metadata: object }).$metadata, { attempts: admission.attempts, totalRetryDelay: admission.totalRetryDelay });
      call.error = throttled.name;
      return Promise.reject(withRequestId(throttled, requestId));
    });
  }

  /** The call, past throttling: a fault, or the service's answer. */
  private answer(r: Route | IamRoute, input: unknown, call: CallRecord, requestId: string, retries: { attempts: number; totalRetryDelay: number }): Promise<unknown> {
    const fault = this.faults.check(r.service, r.name, input);
    if (fault) {
      call.error = fault.name;
      return Promise.reject(withRequestId(fault, requestId));
    }
    this.answering = call;
    try {
      const output = structuredClone(r.handle(input ?? {})) as Record<string, unknown>;
      return Promise.resolve({ ...output, $metadata: { httpStatusCode: 200, requestId, attempts: retries.attempts, totalRetryDelay: retries.totalRetryDelay } });
    } catch (error) {
      call.error = (error as Error).name;
      return Promise.reject(withRequestId(error as Error, requestId));
    } finally {
      this.answering = undefined;
    }
  }

  // ---- events and timeline ----

  /**
   * Puts an event on the bus. Delivery is asynchronous, as with EventBridge: the event is
   * emitted by a clock timer due now, never from inside the SDK call that caused it.
   */
  publish(detailType: string, source: string, resources: string[], detail: object): void {
    const event: AwsEvent = {
      version: '0',
      id: this.ids.uuid(),
      'detail-type': detailType,
      source,
      account: this.accountId,
      time: eventTime(this.clock.now()),
      region: this.region,
      resources,
      detail: detail as Record<string, unknown>,
    };
    this.clock.after(0, () => {
      this.events.push(event);
      this.emitEvent(event);
    });
  }

  note(source: TimelineSource, message: string, instanceId?: string): void {
    const entry: TimelineEntry = { at: this.clock.now(), time: this.clock.iso(), source, message, ...(instanceId ? { instanceId } : {}) };
    this.log.push(entry);
    for (const listener of this.logListeners) listener(`${source}: ${message}`, entry);
  }

  /** Follows the timeline as it is written (`source: message`); returns an unsubscribe. */
  onLog(listener: (message: string, entry: TimelineEntry) => void): () => void {
    this.logListeners.push(listener);
    return () => {
      const i = this.logListeners.indexOf(listener);
      if (i >= 0) this.logListeners.splice(i, 1);
    };
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

function withRequestId(error: Error, requestId: string): Error {
  const metadata = (error as { $metadata?: { requestId?: string } }).$metadata;
  if (metadata && metadata.requestId === undefined) metadata.requestId = requestId;
  return error;
}
