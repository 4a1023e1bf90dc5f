/**
 * What the account's services share: the clock, the account's identity, the id generator,
 * the clusters' Kubernetes APIs, the timeline and the event bus. Services take this state,
 * and the sibling services they call, in their constructors; none imports the account
 * (account.ts builds them all, so that would be a cycle).
 */
import type { VirtualClock } from '../clock';
import { eventTime, type AwsEvent, type EmitEvent } from './events';
import { IdFactory } from './ids';
import type { NodeRegistryLookup } from './node-registry';

export type TimelineSource = 'ec2' | 'autoscaling' | 'eks' | 'ssm' | 'kubelet' | 'sandbox';

export interface TimelineEntry {
  at: number;
  time: string;
  source: TimelineSource;
  message: string;
  instanceId?: string;
}

/** The role the sandbox's code runs as, and its session (STS GetCallerIdentity, sts.ts). */
export const SANDBOX_ROLE = 'eks-node-lifecycle-sandbox';
export const SANDBOX_SESSION = 'sandbox';

export interface AccountStateOptions {
  clock: VirtualClock;
  region?: string;
  accountId?: string;
  /** Receives every EventBridge event the account's services emit. */
  emit?: EmitEvent;
  /** The Kubernetes API of a cluster, for the kubelet; `undefined` = no API for it. */
  nodes?: NodeRegistryLookup;
  /** Seed of the id generator (ids are deterministic per seed). */
  seed?: number;
}

/** An STS session (AssumeRole's credentials), as the services that see its calls know it. */
export interface StsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** virtual ms since epoch */
  expiration: number;
  /** the account of the role assumed */
  accountId: string;
  /** the role's ARN (with its path) */
  roleArn: string;
  roleName: string;
  sessionName: string;
  /** arn:aws:sts::<account>:assumed-role/<role name>/<session> */
  arn: string;
  /** AROA…:<session> */
  userId: string;
}

/** Who makes the call being answered, when it is known (a SimCloud's accounts): the STS session its credentials are, if any. */
export interface CallerContext {
  session?: StsSession;
}

/** What STS does beyond one account: AssumeRole of a role in any account (a SimCloud). */
export interface StsAuthority {
  assumeRole(input: Record<string, any>, caller: CallerContext): object;
}

export class AccountState {
  /** the caller of the call being answered, while its handler runs (set by SimAccount for a SimCloud's calls) */
  caller: CallerContext | undefined;
  /** AssumeRole's authority: absent in a world with a single account (the call is then not implemented) */
  stsAuthority: StsAuthority | undefined;
  readonly clock: VirtualClock;
  readonly region: string;
  readonly accountId: string;
  readonly ids: IdFactory;
  readonly nodes: NodeRegistryLookup;
  readonly log: TimelineEntry[] = [];
  /** Every event emitted, in order (also handed to `emit`). */
  readonly events: AwsEvent[] = [];
  private readonly emitEvent: EmitEvent;
  private readonly logListeners: ((message: string, entry: TimelineEntry) => void)[] = [];

  constructor(options: AccountStateOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'eu-west-1';
    this.accountId = options.accountId ?? '111122223333';
    this.emitEvent = options.emit ?? (() => undefined);
    this.nodes = options.nodes ?? (() => undefined);
    this.ids = new IdFactory(options.seed);
  }

  /** Who the sandbox's code runs as (STS GetCallerIdentity's Arn). */
  get callerArn(): string {
    return `arn:aws:sts::${this.accountId}:assumed-role/${SANDBOX_ROLE}/${SANDBOX_SESSION}`;
  }

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
}
