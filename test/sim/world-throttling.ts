import type { AwsThrottling, AwsThrottlingOptions, AwsThrottlingTally } from './aws/throttling.js';
import type { KubeApiServer } from './kube/api-server.js';
import type { FlowControlOptions, FlowControlTally } from './kube/priority-and-fairness.js';

/**
 * The world's switch for production's rate limits, on unless a scenario switches them off
 * (`World.start({ throttling: {} })`):
 * ```ts
 * const world = await World.start({ throttling: { aws: true, kube: true } });
 * // … or later: world.throttling.aws.enable({ seed: 7 }); world.throttling.kube.enable({ burst: 50 });
 * const { aws, kube } = world.throttling.tally();
 * ```
 * `aws` is the account's AwsThrottling (aws/throttling.ts): EC2's documented token buckets,
 * comparable ones for Auto Scaling and EKS, and the SDK's standard retries. `kube` is API
 * Priority and Fairness on every cluster's API server (kube/priority-and-fairness.ts),
 * clusters added later included.
 */
export interface ThrottlingSwitches {
  aws?: boolean | AwsThrottlingOptions;
  kube?: boolean | FlowControlOptions;
}

/** Refuses a switch it does not know, before a world starts anything. */
export function checkSwitches(switches: ThrottlingSwitches): void {
  for (const key of Object.keys(switches)) if (key !== 'aws' && key !== 'kube') throw new Error(`World.start: unknown throttling switch ${key}`);
}

export class KubeThrottling {
  private options: FlowControlOptions | undefined;

  constructor(private readonly servers: () => Iterable<[cluster: string, server: KubeApiServer]>) {}

  get enabled(): boolean {
    return this.options !== undefined;
  }

  enable(options: FlowControlOptions = {}): this {
    this.options = options;
    for (const [, server] of this.servers()) server.flowControl.enable(options);
    return this;
  }

  disable(): void {
    this.options = undefined;
    for (const [, server] of this.servers()) server.flowControl.disable();
  }

  /** A cluster's API server just started: it follows the switch. */
  adopt(server: KubeApiServer): void {
    if (this.options) server.flowControl.enable(this.options);
  }

  /** Requests, 429s and peak requests per virtual second per flow, by cluster. */
  tally(): Map<string, FlowControlTally> {
    return new Map([...this.servers()].map(([cluster, server]) => [cluster, server.flowControl.tally()]));
  }

  resetTally(): void {
    for (const [, server] of this.servers()) server.flowControl.resetTally();
  }
}

export class WorldThrottling {
  readonly kube: KubeThrottling;

  constructor(
    readonly aws: AwsThrottling,
    servers: () => Iterable<[cluster: string, server: KubeApiServer]>,
  ) {
    this.kube = new KubeThrottling(servers);
  }

  /** Applies World.start's `throttling` option (checked beforehand with `checkSwitches`). */
  apply(switches: ThrottlingSwitches): void {
    if (switches.aws) this.aws.enable(switches.aws === true ? {} : switches.aws);
    if (switches.kube) this.kube.enable(switches.kube === true ? {} : switches.kube);
  }

  tally(): { aws: AwsThrottlingTally; kube: Map<string, FlowControlTally> } {
    return { aws: this.aws.tally(), kube: this.kube.tally() };
  }

  resetTally(): void {
    this.aws.resetTally();
    this.kube.resetTally();
  }
}
