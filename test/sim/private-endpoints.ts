import type { ClientRequest } from 'node:http';
import https from 'node:https';
import { Duplex } from 'node:stream';
import { type TimerSource, useTimerSource } from '../../shared/clock.js';
import type { VirtualClock } from './clock.js';
import { replaceHttpsRequest } from './https-gate.js';
import { InvocationSleeps } from './invocation-sleeps.js';
import { runningInvocation, type RunningInvocation } from './lambda.js';
import type { SimFunction } from './serverless-config.js';

/**
 * Clusters whose API endpoint is private only (`endpointPublicAccess: false`), as AWS has them:
 * the endpoint's name resolves, from anywhere, to the private addresses of the cross-account
 * network interfaces EKS puts in the cluster's subnets, which only the cluster's VPC (and
 * networks connected to it) can reach (EKS user guide, "Cluster API server endpoint"). A
 * connection from elsewhere gets no answer at all: the SYNs go unanswered, the connection never
 * opens, and the client waits until its own deadline gives up (or, with none, the kernel's
 * connect timeout: `connect ETIMEDOUT <address>:443`, about 127 s with Linux's 6 SYN retries).
 *
 * Who is where: a request made inside a Lambda invocation (`runningInvocation()`) comes from
 * the function's VpcConfig (serverless-config.ts: serverless.yml's vpc params, placed as
 * scripts/deploy/vpc.cjs places them) — in the VPC when its subnets are the cluster VPC's.
 * Security group rules and routes are not modelled: a function in the VPC reaches the endpoint.
 * Requests made outside invocations (the scenario's own kubectl, a test's client) stand for an
 * operator with access, and are not gated.
 *
 * Time: the client's deadline (shared/kube/rest-client.ts, `startTimer`) is a real timer; for a
 * request that can never connect, the sandbox runs that one deadline on the virtual clock
 * instead: the invocation sleeps until it passes, as the function would sit in Lambda, and the
 * client's own timer fires then — its own error, its own retry decision.
 */
export interface PrivateEndpoint {
  cluster: string;
  /** the port of the cluster's API server on 127.0.0.1 (what the gate recognises it by) */
  port: number;
  /** the cluster's VPC */
  vpcId: string;
  /** the private address the endpoint's name resolves to, for the kernel's message */
  address: string;
}

export interface HeldRequest {
  cluster: string;
  function: string;
  /** virtual time (ISO) the connection was attempted */
  at: string;
  path: string;
  /** how it ended: the client's deadline, or the kernel's connect timeout */
  ended?: 'client deadline' | 'connect ETIMEDOUT';
}

/** Linux's connect timeout with the default net.ipv4.tcp_syn_retries = 6: 1+2+4+8+16+32+64 s. */
export const CONNECT_TIMEOUT_MS = 127_000;

interface Hold {
  request: HeldRequest;
  deadline?: { ms: number; fire: () => void; cancelled: boolean };
}

export class PrivateEndpoints {
  readonly held: HeldRequest[] = [];
  private readonly endpoints = new Map<number, PrivateEndpoint>();
  /** a request just held in this invocation, waiting for the client to start its deadline */
  private readonly justHeld = new WeakMap<RunningInvocation, Hold>();
  private readonly restores: (() => void)[] = [];

  constructor(
    private readonly clock: VirtualClock,
    /** the function by key, with its VpcConfig */
    private readonly functionOf: (key: string) => SimFunction | undefined,
    /** the VPC a subnet is in, if the account has the subnet */
    private readonly vpcOfSubnet: (subnetId: string) => string | undefined,
    private readonly note: (message: string) => void,
  ) {
    this.restores.push(this.gateHttps(), useTimerSource(this.timers()));
  }

  add(endpoint: PrivateEndpoint): void {
    this.endpoints.set(endpoint.port, endpoint);
  }

  /** Whether the function's network interfaces are in this VPC (every subnet of its VpcConfig is). */
  inVpc(fn: SimFunction | undefined, vpcId: string): boolean {
    const subnets = fn?.vpcConfig?.subnetIds ?? [];
    return subnets.length > 0 && subnets.every((s) => this.vpcOfSubnet(s) === vpcId);
  }

  restore(): void {
    for (const restore of this.restores.splice(0).reverse()) restore();
  }

  /** The endpoint a request goes to, when it cannot reach it from where it is made. */
  private unreachable(port: number): { endpoint: PrivateEndpoint; scope: RunningInvocation } | undefined {
    const endpoint = this.endpoints.get(port);
    const scope = runningInvocation();
    if (!endpoint || !scope) return undefined;
    return this.inVpc(this.functionOf(scope.function), endpoint.vpcId) ? undefined : { endpoint, scope };
  }

  /** Real timers, except the deadline a client starts right after a request the gate holds: that one is virtual. */
  private timers(): TimerSource {
    return (ms, fire) => {
      const scope = runningInvocation();
      const hold = scope && this.justHeld.get(scope);
      if (scope && hold && !hold.deadline) {
        this.justHeld.delete(scope);
        const deadline = { ms, fire, cancelled: false };
        hold.deadline = deadline;
        return () => {
          deadline.cancelled = true;
        };
      }
      const timer = setTimeout(fire, ms);
      return () => clearTimeout(timer);
    };
  }

  private gateHttps(): () => void {
    // a connection that never opens: the socket takes what is written, answers nothing, never errors
    const nowhere = new https.Agent();
    (nowhere as unknown as { createConnection: () => Duplex }).createConnection = () =>
      new Duplex({
        read() {},
        write(_chunk, _encoding, done) {
          done();
        },
      });
    return replaceHttpsRequest((call) => (...args: unknown[]) => {
      const [first, second] = args as [string | URL | https.RequestOptions, https.RequestOptions | undefined];
      const url = first instanceof URL ? first : typeof first === 'string' ? new URL(first) : undefined;
      const options = (url ? second : first) as https.RequestOptions | undefined;
      const port = Number(url ? url.port : options?.port);
      const found = this.unreachable(port);
      if (!found) return call(args);
      const path = url ? url.pathname : (options?.path ?? '');
      const request = call([{ host: found.endpoint.address, port: 443, path, method: options?.method ?? 'GET', agent: nowhere }]);
      this.hold(request, found.endpoint, found.scope, path);
      return request;
    });
  }

  /**
   * The connection attempt goes unanswered: the invocation sleeps on the virtual clock until the
   * client's deadline (started right after this, see `timers`) or the kernel gives up.
   */
  private hold(request: ClientRequest, endpoint: PrivateEndpoint, scope: RunningInvocation, path: string): void {
    const record: HeldRequest = { cluster: endpoint.cluster, function: scope.function, at: this.clock.iso(), path };
    this.held.push(record);
    const hold: Hold = { request: record };
    this.justHeld.set(scope, hold);
    const closed = new AbortController();
    request.once('close', () => closed.abort());
    const cancel = AbortSignal.any([closed.signal, scope.ended]);
    process.nextTick(() => {
      if (this.justHeld.get(scope) === hold) this.justHeld.delete(scope);
      const deadline = hold.deadline;
      const ms = deadline ? deadline.ms : CONNECT_TIMEOUT_MS;
      void InvocationSleeps.of(this.clock)
        .sleep(scope, ms, cancel)
        .then(() => {
          if (deadline && !deadline.cancelled) {
            record.ended = 'client deadline';
            deadline.fire();
          } else if (!request.destroyed) {
            record.ended = 'connect ETIMEDOUT';
            request.destroy(Object.assign(new Error(`connect ETIMEDOUT ${endpoint.address}:443`), { errno: -110, code: 'ETIMEDOUT', syscall: 'connect', address: endpoint.address, port: 443 }));
          }
          this.note(`${scope.function} could not connect to the private endpoint of ${endpoint.cluster} (${endpoint.address}:443) from outside its VPC: ${record.ended} after ${ms / 1000} s`);
        });
    });
  }
}
