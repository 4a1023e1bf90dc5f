import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MetricPoint } from '../../shared/metrics/metrics.js';
import { keepMetrics } from './metrics.js';
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { useSleep, useTimeSource } from '../../shared/clock.js';
import { createEksToken } from '../../shared/kube/eks-token.js';
import { type Place, placeKey, samePlace } from '../../shared/aws/places.js';
import { SimAccount } from './aws/account.js';
import type { BadImage } from './aws/ami-catalogue.js';
import type { AlarmStateValue } from './aws/cloudwatch.js';
import { SimCloud } from './aws/cloud.js';
import { useFunctionEnvironments } from './function-environment.js';
import { type MemberRole, memberStack } from './iam/member-roles.js';
import type { NodeRegistry } from './aws/node-registry.js';
import { VirtualClock } from './clock.js';
import { type SimDynamo, startDynalite } from './dynamo.js';
import { authenticateEksToken } from './eks-authenticator.js';
import { SimEventBus, type BusEvent } from './event-bus.js';
import { type KubeApiServer, type ObservedRequest, startKubeApiServer } from './kube/api-server.js';
import { awsAuthAdmitsNode } from './kube/aws-auth.js';
import { setNodeReady, startControllers } from './kube/controllers.js';
import { nodeFaultsOf } from './kube/crash-loops.js';
import { evictPod } from './kube/eviction.js';
import { KubeStore } from './kube/store.js';
import { isTerminating } from './kube/types.js';
import { InvocationSleeps } from './invocation-sleeps.js';
import { bindLambdaApi, type Invocation, runningInvocation, SimLambda } from './lambda.js';
import { captureHandlerLogs, type LogRecord } from './log-capture.js';
import { loadServerlessModel, memberAccountIdsOf, resolveEnvironment, SANDBOX_ACCOUNT_ID, type ServerlessModel } from './serverless-config.js';
import { SimIam } from './iam/authorizer.js';
import { PrivateEndpoints } from './private-endpoints.js';
import type { SimRole } from './iam/template-roles.js';
import { SimStepFunctions } from './step-functions.js';
import { Timeline } from './timeline.js';
import { checkSwitches, type ThrottlingSwitches, WorldThrottling } from './world-throttling.js';

/**
 * The sandbox world: one simulated AWS account, one Kubernetes API server per EKS cluster,
 * real DynamoDB (dynalite), Step Functions and EventBridge as serverless.yml declares them,
 * and a virtual clock that all of it shares.
 *
 * Lifecycle: `World.start()` → add clusters and node groups → put events or change the
 * account → `settle()` lets the world run → assert → `stop()`.
 */
/** The sandbox refuses what AWS refuses: production's rate limits are on unless a scenario says otherwise. */
const PRODUCTION_LIMITS: ThrottlingSwitches = { aws: true, kube: true };

export const SANDBOX_CREDENTIALS = { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox-secret-access-key' };

export interface WorldOptions {
  start?: Date;
  region?: string;
  /** print the handlers' log records as they happen */
  echoLogs?: boolean;
  /** where kubeconfig files are written */
  workDir?: string;
  /**
   * serverless params, as `--param` would set them (managedClusters, …); or made from the
   * account before anything runs, for params that name its resources (the seeded VPC's subnets:
   * `(account) => ({ vpcSubnetIds: account.seedVpc().subnets.map((s) => s.subnetId).join(',') … })`)
   */
  params?: Record<string, string> | ((account: SimAccount) => Record<string, string>);
  /** deliver every event this many times (EventBridge delivers at least once) */
  deliveries?: number;
  /** AWS's and the Kubernetes API's rate limits: on unless switched off here (`{}`) or through `world.throttling` */
  throttling?: ThrottlingSwitches;
  /**
   * the IAM roles to evaluate calls against, instead of the template's (a test removing a
   * statement): denials are then expected; with the template's own, `stop()` fails on any
   */
  roles?: Map<string, SimRole>;
  /** keep every Kubernetes API request of every cluster in `world.kubeRequests` (who sent it, what it asked) */
  recordKubeRequests?: boolean;
  /**
   * Member accounts (the hub is the world's own account): each account and region is a
   * SimAccount of its own, with deploy/member-account.yml's stack (its roles, its forwarding
   * rules). The world's params then list them (`memberAccounts`, `memberExternalId`) unless
   * `params` says otherwise.
   */
  members?: readonly WorldMember[];
  /** the ExternalId the member roles trust and the hub passes (default 'sandbox-external-id') */
  memberExternalId?: string;
  /** places whose member stack is deployed without its roles (a role deleted before the world starts) */
  memberRolesMissing?: readonly Place[];
}

export interface WorldMember {
  accountId: string;
  /** default: the hub's region */
  regions?: readonly string[];
  /** the clusters the hub looks after there (the entry's third part, the stack's ManagedClusters); default: all (`*`) */
  clusters?: readonly string[];
}

/** The ExternalId the sandbox's member roles trust, unless a world says otherwise. */
export const SANDBOX_EXTERNAL_ID = 'sandbox-external-id';

export interface SimCluster {
  name: string;
  /** the account and region it lives in */
  place: Place;
  /** its key in `world.clusters`: its name in the hub's home, `<account>/<region>/<name>` elsewhere */
  key: string;
  store: KubeStore;
  endpoint: string;
  caData: string;
  kubeconfigPath: string;
  server: KubeApiServer;
  stop(): Promise<void>;
}

let worlds = 0;

export class World {
  readonly clusters = new Map<string, SimCluster>();
  readonly logs: LogRecord[] = [];
  /** the metric points the functions recorded (what CloudWatch would have from their EMF logs): test/sim/metrics.ts */
  readonly metrics: MetricPoint[] = [];
  /** the events the service itself published (PutEvents), in order */
  readonly published: BusEvent[] = [];
  /** with `recordKubeRequests`: every request the clusters' API servers answered, in order */
  readonly kubeRequests: { cluster: string; request: ObservedRequest }[] = [];
  private recordKubeRequests = false;
  /** AWS API throttling and the API servers' Priority and Fairness (world-throttling.ts) */
  readonly throttling: WorldThrottling;
  /** IAM, evaluated on every call and invocation of the deployed roles (iam/authorizer.ts) */
  iam!: SimIam;
  /** with members: every account and region, STS sessions and the member roles (aws/cloud.ts) */
  cloud: SimCloud | undefined;
  private deniedExpected = false;
  private readonly cleanups: (() => void | Promise<void>)[] = [];

  private constructor(
    readonly id: number,
    readonly clock: VirtualClock,
    readonly model: ServerlessModel,
    readonly timeline: Timeline,
    readonly lambda: SimLambda,
    readonly bus: SimEventBus,
    readonly stepFunctions: SimStepFunctions,
    readonly account: SimAccount,
    readonly dynamo: SimDynamo,
    private readonly workDir: string,
  ) {
    this.cloud = undefined;
    this.throttling = new WorldThrottling(account.throttling, () => [...this.clusters].map(([name, cluster]) => [name, cluster.server] as [string, KubeApiServer]));
  }

  /** A test that provokes IAM denials of the deployed roles (a member role's, say): `stop()` no longer fails on them. */
  expectDenials(): void {
    this.deniedExpected = true;
  }

  /** The hub's home: the world's own account and region. */
  get home(): Place {
    return { accountId: this.account.accountId, region: this.account.region };
  }

  /** Every account and region of the world, the hub's home first. */
  places(): Place[] {
    return this.cloud ? this.cloud.places() : [this.home];
  }

  /** The SimAccount of a place; throws naming the world's places when it has none there. */
  accountAt(place: Place): SimAccount {
    if (this.cloud) return this.cloud.accountAt(place);
    if (samePlace(place, this.home)) return this.account;
    throw new Error(`the sandbox has no account ${placeKey(place)}; it has ${placeKey(this.home)}`);
  }

  /**
   * Makes an image bad from now on, in the hub's home or `place` (a member's account): the
   * nodes on it never become Ready (`'nodes'`) or crash-loop the pods it selects
   * (`'workloads'`: by default every pod outside kube-system), those already running
   * included. See aws/ami-catalogue.ts `BadImage`; `releaseAmi(…, { badFor })` is the same
   * decided at release.
   */
  markImageBad(imageId: string, bad: BadImage, place?: Place): void {
    this.accountAt(place ?? this.home).markImageBad(imageId, bad);
  }

  /**
   * Moves a CloudWatch alarm of the hub's home or of `place` to a state (the alarm is created
   * if need be): what DescribeAlarms answers from now on (aws/cloudwatch.ts).
   */
  setAlarmState(name: string, state: AlarmStateValue, place?: Place): void {
    this.accountAt(place ?? this.home).cloudwatch.setState(name, state);
  }

  /** The member roles deploy/member-account.yml created in a place (those not deleted). */
  memberRoles(place: Place): MemberRole[] {
    return (this.cloud?.rolesOf(place.accountId) ?? []).filter((r) => r.region === place.region);
  }

  /** The member role of a hub role in a place (`RollStepRole`); throws naming those there. */
  memberRole(place: Place, logicalId: string): MemberRole {
    const found = this.memberRoles(place).find((r) => r.logicalId === logicalId);
    if (!found) throw new Error(`no member role ${logicalId} in ${placeKey(place)}; there are ${this.memberRoles(place).map((r) => r.logicalId).join(', ') || 'none'}`);
    return found;
  }

  /** Deletes a member role (or every one of the place's stack) from the member's IAM: AssumeRole of it is AccessDenied from now on. */
  deleteMemberRole(place: Place, logicalId?: string): void {
    if (!this.cloud) throw new Error('the world has no member accounts (World.start({ members }))');
    const gone = this.cloud.deleteRoles(place, logicalId);
    this.timeline.add('aws', `${placeKey(place)}: IAM role${gone.length > 1 ? 's' : ''} ${gone.map((r) => r.name).join(', ')} deleted`);
  }

  static async start(options: WorldOptions = {}): Promise<World> {
    checkSwitches(options.throttling ?? PRODUCTION_LIMITS);
    const id = ++worlds;
    const clock = new VirtualClock(options.start);
    const world: { current?: World } = {};
    const deliver = (event: BusEvent) => {
      for (let i = 0; i < (options.deliveries ?? 1); i++) world.current!.put(event);
    };
    const members = options.members ?? [];
    const hubRegion = options.region ?? 'eu-west-1';
    const cloudOf: { current?: SimCloud } = {};
    const account = new SimAccount({
      clock,
      region: hubRegion,
      accountId: SANDBOX_ACCOUNT_ID,
      emit: (event) => (cloudOf.current ? cloudOf.current.forward({ accountId: SANDBOX_ACCOUNT_ID, region: hubRegion }, event, (e) => deliver(e as BusEvent), new Set()) : deliver(event as BusEvent)),
      nodes: (cluster) => world.current!.nodeRegistry(cluster),
    });
    const given = typeof options.params === 'function' ? options.params(account) : (options.params ?? {});
    const externalId = options.memberExternalId ?? SANDBOX_EXTERNAL_ID;
    const params = members.length === 0 ? given : { memberAccounts: members.map((m) => memberEntry(m, hubRegion)).join(','), memberExternalId: externalId, ...given };
    const model = loadServerlessModel({ stage: 'sandbox', region: account.region, accountId: account.accountId, params });
    const timeline = new Timeline(clock);
    const dynamo = await startDynalite();

    // the functions' environment, as deployed: provider-wide, then each function's own
    Object.assign(process.env, {
      AWS_REGION: model.region,
      AWS_DEFAULT_REGION: model.region,
      AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      ...resolveEnvironment(model, model.providerEnvironment),
      ...Object.assign({}, ...model.functions.map((fn) => resolveEnvironment(model, fn.environment))),
    });
    // what differs from function to function (the member role each is told of), as each has it
    const restoreEnvironments =
      members.length > 0
        ? useFunctionEnvironments(new Map(model.functions.map((fn) => [fn.key, { AWS_LAMBDA_FUNCTION_NAME: fn.name, ...resolveEnvironment(model, fn.environment) }])), ['MEMBER_ROLE_NAME', 'AWS_LAMBDA_FUNCTION_NAME'])
        : () => undefined;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;

    const lambda = new SimLambda(model, clock, `world-${id}`);
    const bus = new SimEventBus(model, clock, lambda);
    const stepFunctions = new SimStepFunctions(model, clock, lambda);
    const w = new World(id, clock, model, timeline, lambda, bus, stepFunctions, account, dynamo, options.workDir ?? join(process.cwd(), '.sandbox'));
    world.current = w;
    w.throttling.apply(options.throttling ?? PRODUCTION_LIMITS);

    if (members.length > 0) {
      // IAM's answer to who calls STS without a session: the invocation's function role, or the sandbox's own identity
      const cloud = new SimCloud({
        clock,
        hub: account,
        create: (place) => {
          const created = new SimAccount({
            clock,
            ...place,
            seed: seedOf(place),
            emit: (event) => cloud.forward(place, event, (e) => deliver(e as BusEvent), new Set(memberAccountIdsOf(model))),
            nodes: (cluster) => world.current!.nodeRegistry(cluster, place),
          });
          // throttled as the hub is (its seed, its limits), and switched with it later (world.throttling.aws)
          account.throttling.lead(created.throttling);
          return created;
        },
        hubPrincipal: () => {
          const invocation = runningInvocation();
          const own = invocation && w.iam.principalOf(invocation.function);
          return own ?? { roleArn: `arn:aws:iam::${account.accountId}:role/${account.sts.roleName}`, sessionArn: account.callerArn };
        },
      });
      cloudOf.current = w.cloud = cloud;
      for (const member of members) {
        for (const region of member.regions ?? [hubRegion]) {
          const place = { accountId: member.accountId, region };
          cloud.deployMemberStack(
            place,
            memberStack(member.accountId, region, {
              HubAccountId: account.accountId,
              HubStage: model.stage,
              HubEventBusArn: `arn:aws:events:${hubRegion}:${account.accountId}:event-bus/default`,
              ExternalId: externalId,
              OrganizationId: '',
              ManagedClusters: member.clusters?.join(',') || '*',
            }),
          );
          if (options.memberRolesMissing?.some((p) => samePlace(p, place))) cloud.deleteRoles(place);
        }
      }
      cloud.bind();
    } else account.bind();
    stepFunctions.bind();
    const tablesClient = new DynamoDBClient({ region: model.region, endpoint: dynamo.endpoint });
    await createTables(model, tablesClient);
    tablesClient.destroy();
    const eventbridge = mockClient(EventBridgeClient);
    eventbridge.on(PutEventsCommand).callsFake(async (input: PutEventsCommandInput) => {
      for (const entry of input.Entries ?? []) {
        const event = bus.envelope({ source: entry.Source!, 'detail-type': entry.DetailType!, detail: JSON.parse(entry.Detail ?? '{}'), resources: entry.Resources ?? [] });
        w.published.push(event);
        w.put(event);
        // the service's notifications, as a person watching chat would read them (after the event they tell of)
        const summary = (event.detail as { summary?: unknown }).summary;
        if (typeof summary === 'string') timeline.add('notify', `${entry.DetailType}: ${summary}`);
      }
      return { FailedEntryCount: 0, Entries: (input.Entries ?? []).map(() => ({ EventId: randomUUID() })) };
    });
    const restoreLambdaApi = bindLambdaApi(lambda);
    // IAM on every call a function makes and every invocation a state machine makes, against
    // the roles the packaged template deploys (iam/authorizer.ts); after every mock is bound
    const iam = new SimIam(model, { account, lambda, partitionKeys: partitionKeysOf(model) }, () => clock.now(), options.roles, w.cloud !== undefined).install();
    w.iam = iam;
    if (w.cloud) w.cloud.authorize = (call) => iam.authorizeCloudCall(call);
    w.deniedExpected = options.roles !== undefined;
    w.recordKubeRequests = options.recordKubeRequests ?? false;
    stepFunctions.authorizeInvoke = (machineArn, functionArn) => {
      const machine = model.stateMachines.find((m) => m.arn === machineArn)!;
      return iam.authorizeInvoke(`${machine.id}Role`, machine.name, functionArn);
    };
    iam.onDenied((d) => timeline.add('aws', `IAM denied ${d.caller} (${d.role}) ${d.request.action} on ${d.request.resource}: ${d.service}:${d.command} failed with ${d.error}`));
    const restoreClock = useTimeSource(() => clock.now());
    // a handler's own short waits (shared/clock.ts sleep) pass on the virtual clock, as its
    // invocation's sleep: while it waits, the rest of the world (a workflow's first step) runs
    const sleeps = InvocationSleeps.of(clock);
    const restoreSleep = useSleep(async (ms) => {
      const invocation = runningInvocation();
      if (!invocation) return clock.sleep(ms);
      // an invocation awaited outside settle() (a scenario's own `lambda.invoke`): nothing lets the
      // time pass, so it does not wait — as the SDK's retry waits do not (aws/account.ts wait)
      if (!clock.settling) await new Promise((resolve) => setImmediate(resolve));
      if (!clock.settling) return;
      await sleeps.sleep(invocation, ms, invocation.ended);
    });
    const restoreLogs = captureHandlerLogs((record) => w.logs.push(record), options.echoLogs ?? false);
    const stopMetrics = keepMetrics(lambda, w.metrics);
    w.cleanups.push(() => iam.uninstall(), restoreLambdaApi, restoreLogs, stopMetrics, restoreClock, restoreSleep, () => stepFunctions.restore(), () => (w.cloud ? w.cloud.restore() : account.restore()), restoreEnvironments, () => eventbridge.restore(), () => dynamo.close());

    stepFunctions.onStarted((e) => timeline.add('workflow', `${shortMachine(e.stateMachineArn)} started: ${e.name}`));
    stepFunctions.onFinished((e) => timeline.add('workflow', `${shortMachine(e.stateMachineArn)} ${e.status.toLowerCase()}: ${e.name}${e.error ? ` (${e.error})` : ''}`));
    account.onLog((message) => timeline.add('aws', message));
    lambda.onInvoked((invocation) => {
      const line = describeStep(invocation);
      if (line) timeline.add('lambda', line);
    });
    return w;
  }

  /**
   * Creates an EKS cluster whose API server runs on 127.0.0.1. `endpointHost: 'localhost'`
   * gives its endpoint by name (the server's certificate names it), so that clients resolve it
   * at each new connection, and a DNS failure can reach them (dns-faults.ts). `endpoint:
   * 'private'` turns its public access off: only functions in its VPC (the seeded one) reach it,
   * see private-endpoints.ts.
   */
  async addCluster(
    name: string,
    options: {
      version?: string;
      serviceIpv4Cidr?: string;
      onRequest?: (request: ObservedRequest) => void;
      endpointHost?: 'localhost';
      endpoint?: 'public' | 'private';
      /** where it lives (default: the hub's home); a member's cluster gives its member roles access entries unless `memberAccess: false` */
      place?: Place;
      memberAccess?: boolean;
      /** the cluster's tags (DescribeCluster returns them): `eks-node-lifecycle/ring` for all its groups */
      tags?: Record<string, string>;
    } = {},
  ): Promise<SimCluster> {
    const place = options.place ?? this.home;
    const account = this.accountAt(place);
    const home = samePlace(place, this.home);
    const key = home ? name : `${placeKey(place)}/${name}`;
    if (this.clusters.has(key)) throw new Error(`the sandbox already has a cluster ${key}`);
    const store = new KubeStore(this.clock);
    const stopControllers = startControllers(store, this.clock);
    const server = await startKubeApiServer({
      clock: this.clock,
      store,
      clusterName: name,
      kubernetesVersion: options.version ?? '1.31',
      ...(options.onRequest || this.recordKubeRequests
        ? {
            onRequest: (request: ObservedRequest) => {
              if (this.recordKubeRequests) this.kubeRequests.push({ cluster: key, request });
              options.onRequest?.(request);
            },
          }
        : {}),
      // the user EKS maps the token to: the flow Priority and Fairness throttles it in
      authenticate: (token) => this.authenticate(token, name, place),
    });
    this.throttling.kube.adopt(server);
    mkdirSync(this.workDir, { recursive: true });
    const kubeconfigPath = join(this.workDir, `kubeconfig-${home ? name : key.replace(/\//g, '-')}`);
    const endpoint = options.endpointHost ? `https://${options.endpointHost}:${server.port}` : server.url;
    const vpcId = options.endpoint === 'private' ? account.seedVpc().vpcId : undefined;
    account.eks.addCluster({
      name,
      endpoint,
      certificateAuthorityData: server.caData,
      serviceIpv4Cidr: options.serviceIpv4Cidr ?? '172.20.0.0/16',
      version: options.version ?? '1.31',
      ...(vpcId ? { endpointAccess: 'private' as const, vpcId } : {}),
      ...(options.tags ? { tags: options.tags } : {}),
    });
    if (vpcId) this.privateEndpoints().add({ cluster: name, port: server.port, vpcId, address: `10.0.${(server.port >> 8) & 31}.${server.port & 255}` });
    store.on((event) => {
      if (event.resource !== 'nodes') return;
      const node = event.object as { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } };
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (event.type === 'ADDED') this.timeline.add('kube', `${key}: node ${node.metadata.name} registered${ready ? ' (Ready)' : ''}`);
      if (event.type === 'DELETED') this.timeline.add('kube', `${key}: node ${node.metadata.name} deleted`);
    });
    const cluster: SimCluster = {
      name,
      place,
      key,
      store,
      endpoint,
      caData: server.caData,
      kubeconfigPath,
      server,
      stop: async () => {
        stopControllers();
        await server.close();
      },
    };
    this.clusters.set(key, cluster);
    this.cleanups.push(() => cluster.stop());
    // a member's clusters let its member roles in (grant-access.sh gives each an access entry)
    if (!home && options.memberAccess !== false) for (const role of this.memberRoles(place)) this.grantClusterAccess(name, place, role.arn);
    return cluster;
  }

  /**
   * An access entry for an IAM principal in a cluster (as grant-access.sh creates one for a
   * member role): tokens of its sessions are accepted from now on.
   */
  grantClusterAccess(cluster: string, place: Place, principalArn: string): void {
    this.accountAt(place).eks.createAccessEntry({ clusterName: this.cluster(cluster, place).name, principalArn, type: 'STANDARD' });
  }

  /**
   * EKS authentication of a bearer token: the hub's own credentials (the sandbox's operator,
   * and the hub's functions, in the hub account: the clusters' creator), a place's operator
   * (a member's own clusters), or an STS session of a role with an access entry in the
   * cluster, authenticated as that session's assumed role.
   */
  private async authenticate(token: string, name: string, place: Place): Promise<false | { user: string }> {
    let user: string | undefined;
    const result = await authenticateEksToken(token, {
      cluster: name,
      now: () => this.clock.now(),
      credentials: (accessKeyId) => {
        if (accessKeyId === SANDBOX_CREDENTIALS.accessKeyId && place.accountId === this.account.accountId) {
          user = this.account.callerArn;
          return SANDBOX_CREDENTIALS;
        }
        const operator = operatorCredentials(place);
        if (accessKeyId === operator.accessKeyId) {
          user = `arn:aws:sts::${place.accountId}:assumed-role/${OPERATOR_ROLE}/operator`;
          return operator;
        }
        const session = this.cloud?.sessions.get(accessKeyId);
        // an identity EKS authenticates but the cluster has no access entry for is Unauthorized (401)
        if (!session || !this.accountAt(place).eks.clusters.get(name)?.accessEntries.has(session.roleArn)) return undefined;
        user = session.arn;
        return session;
      },
    });
    return result.ok && user !== undefined && { user };
  }

  private privateEndpointsGate?: PrivateEndpoints;

  /** The gate of the clusters whose endpoint is private (installed with the first of them). */
  privateEndpoints(): PrivateEndpoints {
    if (!this.privateEndpointsGate) {
      const gate = new PrivateEndpoints(
        this.clock,
        (key) => this.model.functions.find((f) => f.key === key),
        (subnetId) => this.account.ec2.subnets.get(subnetId)?.subnet.VpcId,
        (message) => this.timeline.add('kube', message),
      );
      this.privateEndpointsGate = gate;
      this.cleanups.push(() => gate.restore());
    }
    return this.privateEndpointsGate;
  }

  /** Writes a kubeconfig for `kubectl` with a fresh token (valid 15 virtual minutes): the hub's operator's, or the member account's own. */
  async writeKubeconfig(cluster: string, place?: Place): Promise<string> {
    const found = this.cluster(cluster, place);
    const credentials = found.place.accountId === this.account.accountId ? SANDBOX_CREDENTIALS : operatorCredentials(found.place);
    const { token } = await createEksToken(found.name, { region: found.place.region, credentials, now: () => this.clock.date() });
    await found.server.writeKubeconfig(found.kubeconfigPath, { token });
    return found.kubeconfigPath;
  }

  /**
   * A cluster by name: in `place`, or by its bare name — the hub home's cluster of that name,
   * else the only one anywhere; several elsewhere and none at home: an error naming them.
   */
  cluster(name: string, place?: Place): SimCluster {
    const found = this.findCluster(name, place);
    if (found) return found;
    const candidates = [...this.clusters.values()].filter((c) => c.name === name).map((c) => c.key);
    if (candidates.length > 1 && !place) throw new Error(`sandbox cluster ${name} is ambiguous: ${candidates.join(', ')}; name its place`);
    throw new Error(`no sandbox cluster ${place ? `${placeKey(place)}/` : ''}${name}${candidates.length ? ` (there is ${candidates.join(', ')})` : ''}`);
  }

  private findCluster(name: string, place?: Place): SimCluster | undefined {
    if (place) return this.clusters.get(samePlace(place, this.home) ? name : `${placeKey(place)}/${name}`);
    const home = this.clusters.get(name);
    if (home) return home;
    const elsewhere = [...this.clusters.values()].filter((c) => c.name === name);
    return elsewhere.length === 1 ? elsewhere[0] : undefined;
  }

  /**
   * Runs `body` as an invocation of the deployed function `functionKey` (its role's IAM, its
   * environment): product code no handler reaches yet, called as its handler would call it.
   */
  runAs<T>(functionKey: string, body: () => Promise<T>): Promise<T> {
    return this.lambda.runAs(functionKey, body);
  }

  /** The kubelet's view of a cluster's API (in the hub's home, or `place`): register nodes, flip Ready, remove them. */
  nodeRegistry(cluster: string, place?: Place): NodeRegistry | undefined {
    const found = place && !samePlace(place, this.home) ? this.clusters.get(`${placeKey(place)}/${cluster}`) : this.clusters.get(cluster);
    if (!found) return undefined;
    const store = found.store;
    return {
      registerNode: (node) => {
        store.create('nodes', node as never);
      },
      setNodeReady: (name, ready, reason, message) => {
        if (store.get('nodes', undefined, name)) setNodeReady(store, name, ready, message ? { reason: reason ?? 'KubeletNotReady', message } : undefined);
      },
      removeNode: (name) => {
        nodeFaultsOf(store).set(name, undefined);
        if (store.get('nodes', undefined, name)) store.delete('nodes', undefined, name, {});
      },
      crashPods: (name, crash) => nodeFaultsOf(store).set(name, crash),
      // asked only for a role without an access entry: as in EKS, no aws-auth maps nobody
      isNodeRoleMapped: (roleArn) => awsAuthAdmitsNode(store, roleArn),
      isNodeReady: (name) => {
        const node = store.get('nodes', undefined, name);
        if (!node) return undefined;
        return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      },
      cordonNode: (name, options = {}) => {
        if (!store.get('nodes', undefined, name)) return;
        store.patch('nodes', undefined, name, { spec: { unschedulable: true }, ...(options.labels ? { metadata: { labels: options.labels } } : {}) }, 'merge');
      },
      drainNode: (name, { force }) => {
        // kubectl drain --ignore-daemonsets: DaemonSet and mirror pods stay
        const drainable = () =>
          store.list('pods').filter((p) => p.spec?.nodeName === name && !p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet') && !p.metadata.annotations?.['kubernetes.io/config.mirror']);
        const blockedBy: string[] = [];
        for (const pod of drainable()) {
          const namespace = pod.metadata.namespace!;
          const podName = pod.metadata.name!;
          if (isTerminating(pod)) continue;
          try {
            if (force) store.delete('pods', namespace, podName, {});
            else evictPod(store, namespace, podName, {});
          } catch (error) {
            blockedBy.push(`${namespace}/${podName}: ${(error as Error).message}`);
          }
        }
        const remaining = drainable().length;
        return remaining === 0 ? 'drained' : { blockedBy, remaining };
      },
    };
  }

  /** Puts an event on the default bus (what an AWS service or a test would send). */
  put(event: BusEvent): void {
    this.timeline.add('event', describeEvent(event));
    const deliveries = this.bus.put(event);
    for (const d of deliveries) {
      void d.done.then(() => {
        if (d.outcome === 'succeeded') this.timeline.add('lambda', `${d.function}: ${summarize(d.result)}`);
        else this.timeline.add('lambda', `${d.function} failed after ${d.attempts} attempts: ${d.error?.errorType}: ${d.error?.errorMessage}`);
      });
    }
  }

  /** Lets the world run until nothing is left to do (or until the virtual time `until`). */
  async settle(until?: Date | number): Promise<void> {
    await this.clock.settle(until === undefined ? undefined : typeof until === 'number' ? until : until.getTime());
  }

  /**
   * An EventBridge Scheduler schedule of serverless.yml fires: Scheduler invokes the function
   * with the schedule's role (`roleArn`), which must allow `lambda:InvokeFunction` on it; a
   * denied invocation is Scheduler's failed attempt, and the function does not run.
   */
  async runSchedule(functionKey: string, input: unknown = {}): Promise<unknown> {
    const fn = this.model.functions.find((f) => f.key === functionKey);
    const roleArn = fn?.scheduleRoles[0] as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const role = roleArn?.['Fn::GetAtt']?.[0];
    if (!fn || !role) throw new Error(`serverless.yml schedules no function ${functionKey} with EventBridge Scheduler`);
    const denied = this.iam.authorizeInvoke(role, `scheduler-${functionKey}`, fn.arn);
    if (denied) {
      this.timeline.add('event', `schedule of ${functionKey} failed: ${denied.name}: ${denied.message}`);
      throw denied;
    }
    return this.lambda.invoke(functionKey, input);
  }

  /**
   * Awaits `work` that a caller outside the world started (a CLI command through a function
   * URL) while time passes, in steps of `stepMs`: a handler that waits a few seconds (a
   * rollout's reply waiting for Begin) sees those seconds pass, as its caller would in AWS,
   * and the rest of the world moves with them.
   */
  async passTimeWhile<T>(work: Promise<T>, stepMs = 250): Promise<T> {
    let done = false;
    const tracked = work.finally(() => {
      done = true;
    });
    tracked.catch(() => undefined);
    while (!done) await this.clock.advance(stepMs);
    return tracked;
  }

  /** Runs the world for a stretch of virtual time. */
  async run(ms: number): Promise<void> {
    await this.clock.advance(ms);
  }

  async stop(): Promise<void> {
    // 1. stop executions and refuse new invocations; 2. wake whatever still sleeps on the
    // virtual clock so no real timer (a Task's timeout) keeps the process alive; 3. the rest
    this.stepFunctions.abortAll();
    this.lambda.close();
    this.clock.release();
    await new Promise((resolve) => setImmediate(resolve));
    for (const cleanup of this.cleanups.reverse()) await cleanup();
    // with the roles it deploys, the service is never denied a call: a denial is a missing
    // statement in serverless.yml, whatever the scenario made of the failure
    if (!this.deniedExpected && this.iam.denials.length > 0) {
      const lines = this.iam.denials.slice(0, 5).map((d) => `${d.caller} (${d.role}) ${d.request.action} on ${d.request.resource} ${JSON.stringify(d.request.context)} [${d.service}:${d.command} ${d.error}]`);
      throw new Error(`the sandbox's IAM denied ${this.iam.denials.length} call(s) of the deployed roles:\n  ${lines.join('\n  ')}`);
    }
  }
}

/** A member's `memberAccounts` entry: `<account>:<region>+<region>[:<cluster>+<cluster>]` */
function memberEntry(member: WorldMember, hubRegion: string): string {
  const regions = (member.regions ?? [hubRegion]).join('+');
  return `${member.accountId}:${regions}${member.clusters?.length ? `:${member.clusters.join('+')}` : ''}`;
}

/** Each place's id generator has its own seed: two accounts' ids never collide, and stay the same from run to run. */
function seedOf(place: Place): number {
  let h = 7;
  for (const c of placeKey(place)) h = (h * 31 + c.charCodeAt(0)) % 2_147_483_647;
  return h;
}

/** The role a member account's own operator runs kubectl as (its clusters' creator). */
const OPERATOR_ROLE = 'sandbox-operator';

/** A place's operator's keys (not the hub's): what writeKubeconfig signs a member cluster's token with. */
function operatorCredentials(place: Place): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: `AKIAOPERATOR${place.accountId.slice(-8)}`, secretAccessKey: `operator-secret-${placeKey(place)}` };
}

/** Each table's partition key attribute, by table name. */
function partitionKeysOf(model: ServerlessModel): Record<string, string> {
  return Object.fromEntries(
    model.tables.map((t) => {
      const table = t as { TableName: string; KeySchema: { AttributeName: string; KeyType: string }[] };
      return [table.TableName, table.KeySchema.find((k) => k.KeyType === 'HASH')!.AttributeName];
    }),
  );
}

/**
 * The tables serverless.yml declares, created as CloudFormation would (in dynalite here; the
 * contract suite creates them in moto too).
 */
export async function createTables(model: ServerlessModel, client: DynamoDBClient): Promise<void> {
  for (const table of model.tables) {
    const { TimeToLiveSpecification: _ttl, PointInTimeRecoverySpecification: _pitr, SSESpecification: _sse, ...properties } = table as Record<string, unknown>;
    await client.send(new CreateTableCommand(properties as unknown as CreateTableCommandInput));
  }
}

/** Workflow steps worth a line in the timeline (event handlers get theirs from the bus). */
function describeStep(invocation: Invocation): string | undefined {
  if (!('result' in invocation.outcome)) {
    return ['drainStep', 'finishDrain', 'checkNodeReady'].includes(invocation.function) ? `${invocation.function} failed: ${invocation.outcome.errorType}: ${invocation.outcome.errorMessage}` : undefined;
  }
  const r = invocation.outcome.result as Record<string, any>;
  if (invocation.function === 'drainStep') {
    const blocked = (r.blocked as { pod: string; pdb: { namespace: string; name: string; disruptionsAllowed: number } | null }[]).map((b) => (b.pdb ? `${b.pod} by PDB ${b.pdb.namespace}/${b.pdb.name} (${b.pdb.disruptionsAllowed} allowed)` : b.pod));
    const parts = [`${r.nodeName ?? 'no node'}: ${r.phase}`, `${r.evicted} evicted`, `${r.terminating} terminating`, `${r.remaining} remaining`];
    if (blocked.length > 0) parts.push(`blocked: ${blocked.slice(0, 3).join('; ')}${blocked.length > 3 ? ` (+${blocked.length - 3})` : ''}`);
    if (r.heartbeat === 'sent') parts.push('hook heartbeat sent');
    if (r.phase === 'draining') parts.push(r.deadlinePassed ? 'deadline passed' : `next pass in ${r.waitSeconds} s`);
    return `drainStep ${parts.join(', ')}`;
  }
  if (invocation.function === 'finishDrain') return `finishDrain: ${r.outcome} in ${r.durationSeconds} s, lifecycle action ${r.lifecycleAction}`;
  if (invocation.function === 'rollStep' && typeof r.summary === 'string') {
    // a rollout's own drains, with what holds them (a PodDisruptionBudget, a pod)
    const input = invocation.payload as { cluster?: string; group?: { name?: string } };
    const blockers = (r.state?.cycle?.blockers ?? []) as string[];
    const draining = r.state?.phase === 'await-drain' ? ` (${((r.state?.cycle?.retire ?? []) as string[]).join(', ')})` : '';
    const waiting = draining && blockers.length > 0 ? `; waiting on ${blockers.slice(0, 3).join(', ')}${blockers.length > 3 ? ` (+${blockers.length - 3})` : ''}` : '';
    return `rollStep ${input.cluster}/${input.group?.name}: ${r.summary}${draining}${waiting}`;
  }
  return undefined;
}

function shortMachine(arn: string): string {
  return arn.split(':').at(-1)!.replace(/^eks-node-lifecycle-sandbox-/, '');
}

function describeEvent(event: BusEvent): string {
  const d = event.detail as Record<string, unknown>;
  // the service's own events name their cluster and group, or node
  const group = typeof d.group === 'string' ? d.group : (d.group as { name?: string } | undefined)?.name;
  const own = d.cluster ? `${d.cluster}${group ? `/${group}` : ''}${d.nodeName ? ` ${d.nodeName}` : ''}` : '';
  const subject = d['instance-id'] ?? d.EC2InstanceId ?? d.instanceId ?? own;
  const extra = d.state ?? d.AutoScalingGroupName ?? d.outcome ?? d.phase ?? '';
  return `${event['detail-type']}${subject ? ` ${subject}` : ''}${extra ? ` (${extra})` : ''}`;
}

function summarize(result: unknown): string {
  if (!result || typeof result !== 'object') return JSON.stringify(result);
  const r = result as { outcome?: string; cluster?: string; reason?: string; groupTagSet?: boolean; joinExecution?: { started: boolean } };
  const parts = [
    r.outcome,
    r.cluster && `cluster ${r.cluster}`,
    r.reason,
    r.groupTagSet && 'group tag now propagates at launch',
    r.joinExecution && (r.joinExecution.started ? 'node-join started' : 'node-join already under way'),
  ];
  return parts.filter(Boolean).join(', ') || JSON.stringify(result);
}
