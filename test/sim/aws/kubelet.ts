/**
 * The simulated kubelet (and the cloud controller's node lifecycle).
 *
 * When an instance reaches `running` it boots for a while, then reads its user data with
 * the boot tooling of its AMI family (bootstrap-config.ts) and decides, as the real node
 * would, whether it joins a cluster: the cluster must exist, the endpoint and CA it was
 * given must be that cluster's, and its instance role must be allowed to register. If it
 * joins, a Node is registered through the cluster's NodeRegistry (NotReady until the CNI
 * is up, then Ready); if not, nothing registers and the reason goes to the timeline, which
 * is what makes a launch hook time out. An image released with `brokenBootstrap` never
 * joins, whatever its user data says; one bad for nodes (`badFor`) joins but never becomes
 * Ready, and one bad for workloads joins, becomes Ready and crashes the pods it selects
 * (`NodeRegistry.crashPods`). A mark made after nodes joined (`markImageBad`) reaches them
 * at once: their kubelets report NotReady, or their runtimes start crashing pods. A terminated instance's Node goes NotReady and is
 * then deleted by the cloud controller.
 */
import type { AccountState } from './account-state';
import { badImage, bootstrapFailure, NEVER_READY_MESSAGE, type BadImageSpec } from './ami-catalogue';
import { readBootstrap, type BootstrapIntent } from './bootstrap-config';
import type { Ec2Service } from './ec2';
import type { EksService } from './eks';
import type { ClusterRecord } from './eks-records';
import { INSTANCE_TYPES, maxPods } from './instance-types';
import type { InstanceRecord } from './instances';
import type { KubeNode, NodeRegistry } from './node-registry';

export interface KubeletNote {
  at: number;
  time: string;
  instanceId: string;
  joined: boolean;
  cluster?: string;
  nodeName?: string;
  reason: string;
}

interface Joined {
  cluster: string;
  nodeName: string;
  registry: NodeRegistry;
}

type Decision =
  | { join: true; cluster: ClusterRecord; intent: BootstrapIntent; registry: NodeRegistry; how: string }
  | { join: false; reason: string; cluster?: string };

export class Kubelet {
  /** Virtual durations: boot to kubelet start, NotReady → Ready (CNI), node lifecycle. */
  readonly timings = { bootMs: 40_000, cniReadyMs: 15_000, notReadyAfterShutdownMs: 40_000, nodeDeletionMs: 30_000 };
  readonly notes: KubeletNote[] = [];
  private readonly joined = new Map<string, Joined>();

  constructor(
    private readonly account: AccountState,
    private readonly ec2: Ec2Service,
    private readonly eks: EksService,
  ) {
    ec2.instances.onStateChange((record) => this.onInstanceState(record));
  }

  isJoined(instanceId: string): boolean {
    return this.joined.has(instanceId);
  }

  /** The node name an instance registered as (kept after EC2 forgets its DNS name). */
  nodeName(instanceId: string): string | undefined {
    return this.joined.get(instanceId)?.nodeName;
  }

  private onInstanceState(record: InstanceRecord): void {
    const { clock } = this.account;
    const id = record.instance.InstanceId;
    switch (record.instance.State.Name) {
      case 'running':
        clock.after(this.timings.bootMs, () => {
          // an actor: the clock waits while the node reads its user data
          this.guarded(id, 'boot', () => this.boot(record));
        });
        break;
      case 'shutting-down': {
        const joined = this.joined.get(id);
        if (joined) {
          clock.after(this.timings.notReadyAfterShutdownMs, () => {
            if (this.joined.get(id) === joined) this.guarded(id, 'NotReady', async () => joined.registry.setNodeReady(joined.nodeName, false, 'NodeStatusUnknown'));
          });
        }
        break;
      }
      case 'terminated': {
        const joined = this.joined.get(id);
        if (joined) {
          clock.after(this.timings.nodeDeletionMs, () => {
            this.joined.delete(id);
            this.account.note('kubelet', `cloud controller deleted node ${joined.nodeName} (instance ${id} terminated)`, id);
            this.guarded(id, 'node deletion', async () => joined.registry.removeNode(joined.nodeName));
          });
        }
        break;
      }
    }
  }

  /**
   * Runs node-side work as a clock actor; a failure (the API server refusing a node) goes to
   * the timeline instead of becoming an unhandled rejection in whoever advanced the clock.
   */
  private guarded(instanceId: string, what: string, work: () => Promise<void>): void {
    void this.account.clock.actor(work).catch((error: unknown) => {
      this.account.note('kubelet', `${instanceId}: ${what} failed: ${(error as Error).message ?? String(error)}`, instanceId);
    });
  }

  private async boot(record: InstanceRecord): Promise<void> {
    const id = record.instance.InstanceId;
    const decision = await this.decide(record);
    if (!decision.join) {
      this.record({ instanceId: id, joined: false, reason: decision.reason, ...(decision.cluster ? { cluster: decision.cluster } : {}) });
      return;
    }
    const node = this.node(record, decision.cluster, decision.intent);
    await decision.registry.registerNode(node);
    this.joined.set(id, { cluster: decision.cluster.cluster.name, nodeName: node.metadata.name, registry: decision.registry });
    this.record({ instanceId: id, joined: true, cluster: decision.cluster.cluster.name, nodeName: node.metadata.name, reason: decision.how });
    const joined = this.joined.get(id)!;
    this.account.clock.after(this.timings.cniReadyMs, () => {
      if (this.joined.get(id) !== joined || record.instance.State.Name !== 'running') return;
      // the image may have been marked since it booted: asked now, not at boot
      const bad = badImage(this.ec2, record.instance.ImageId ?? '');
      if (bad) this.guarded(id, 'bad image', () => this.suffer(joined, bad));
      if (bad?.for !== 'nodes') this.guarded(id, 'Ready', async () => joined.registry.setNodeReady(joined.nodeName, true));
    });
  }

  /**
   * An image marked bad after nodes joined on it: each such node's kubelet reports NotReady
   * from now on, or its runtime starts crashing the pods the mark selects (those running
   * included: their containers exit and restart with the back-off). Nodes still booting
   * learn of it when their CNI would come up.
   */
  imageMarkedBad(imageId: string): void {
    const bad = badImage(this.ec2, imageId);
    if (!bad) return;
    for (const [id, joined] of this.joined) {
      const record = this.ec2.instances.get(id);
      if (record?.instance.ImageId !== imageId || record.instance.State.Name !== 'running') continue;
      this.guarded(id, 'bad image', () => this.suffer(joined, bad));
    }
  }

  private async suffer(joined: Joined, bad: BadImageSpec): Promise<void> {
    if (bad.for === 'nodes') {
      await joined.registry.setNodeReady(joined.nodeName, false, 'KubeletNotReady', bad.message ?? NEVER_READY_MESSAGE);
      return;
    }
    await joined.registry.crashPods?.(joined.nodeName, {
      ...(bad.namespaces ? { namespaces: bad.namespaces } : {}),
      ...(bad.podSelector ? { podSelector: bad.podSelector } : {}),
      exitCode: bad.exitCode ?? 1,
    });
  }

  private async decide(record: InstanceRecord): Promise<Decision> {
    const { ec2, eks } = this;
    if (record.instance.State.Name !== 'running') return { join: false, reason: `the instance is ${record.instance.State.Name}, the kubelet never started` };
    const image = ec2.images.get(record.instance.ImageId ?? '');
    if (!image?.family) {
      return { join: false, reason: `image ${record.instance.ImageId} (${image?.image.Name ?? 'unknown'}) is not an EKS node image: nothing on it bootstraps a kubelet` };
    }
    const intent = await readBootstrap(image.family, record.userData);
    if (intent.problems.length) return { join: false, reason: intent.problems.join('; ') };
    // a bad release: the instance runs, its bootstrap dies before the kubelet registers
    const failure = bootstrapFailure(this.ec2, image.image.ImageId);
    if (failure) return { join: false, reason: failure, ...(intent.clusterName ? { cluster: intent.clusterName } : {}) };
    const name = intent.clusterName!;
    const cluster = eks.clusters.get(name);
    if (!cluster) return { join: false, cluster: name, reason: `cluster ${name} does not exist in ${this.account.region}` };
    if (cluster.cluster.status !== 'ACTIVE') return { join: false, cluster: name, reason: `cluster ${name} is ${cluster.cluster.status}` };
    const lookups: string[] = [];
    if (intent.apiServerEndpoint === undefined || intent.certificateAuthority === undefined) {
      // bootstrap.sh and Start-EKSBootstrap.ps1 fall back to eks:DescribeCluster
      lookups.push('endpoint and CA looked up with eks:DescribeCluster');
    }
    if (intent.apiServerEndpoint !== undefined && trimSlash(intent.apiServerEndpoint) !== trimSlash(cluster.cluster.endpoint)) {
      return { join: false, cluster: name, reason: `the API server endpoint ${intent.apiServerEndpoint} is not cluster ${name}'s (${cluster.cluster.endpoint}): the kubelet cannot reach its cluster` };
    }
    if (intent.certificateAuthority !== undefined && intent.certificateAuthority.replace(/\s/g, '') !== (cluster.cluster.certificateAuthority?.data ?? '').replace(/\s/g, '')) {
      return { join: false, cluster: name, reason: `x509: certificate signed by unknown authority (the CA in the user data is not cluster ${name}'s)` };
    }
    const registry = this.account.nodes(name);
    if (!registry) return { join: false, cluster: name, reason: `no Kubernetes API server runs for cluster ${name} in the sandbox` };
    const roleArn = ec2.roleForInstanceProfile(record.instance.IamInstanceProfile?.Arn);
    if (!roleArn) return { join: false, cluster: name, reason: 'the instance has no IAM instance profile, so the kubelet cannot authenticate to the cluster' };
    const authorization = eks.nodeAuthorization(name, roleArn);
    if (authorization === 'denied') {
      return { join: false, cluster: name, reason: `Unauthorized: role ${roleArn} has no EC2_LINUX/EC2_WINDOWS access entry in cluster ${name} (authentication mode API)` };
    }
    if (authorization === 'ask-aws-auth') {
      const mapped = registry.isNodeRoleMapped ? await registry.isNodeRoleMapped(roleArn) : true;
      if (!mapped) return { join: false, cluster: name, reason: `Unauthorized: role ${roleArn} is neither an access entry nor mapped in kube-system/aws-auth` };
      lookups.push(registry.isNodeRoleMapped ? 'authorized by aws-auth' : 'authorization assumed (no aws-auth check in this world)');
    }
    return { join: true, cluster, intent, registry, how: lookups.join('; ') };
  }

  private node(record: InstanceRecord, cluster: ClusterRecord, intent: BootstrapIntent): KubeNode {
    const { region, clock, ids } = this.account;
    const { ec2 } = this;
    const i = record.instance;
    const image = ec2.images.get(i.ImageId ?? '')!;
    const type = i.InstanceType ?? '';
    const info = INSTANCE_TYPES.get(type);
    const windows = image.family === 'windows';
    const arch = i.Architecture === 'arm64' ? 'arm64' : 'amd64';
    const az = i.Placement?.AvailabilityZone ?? '';
    const name = i.PrivateDnsName;
    // Windows pods share the primary ENI only; Linux uses the VPC CNI formula
    const pods = intent.maxPods ?? (windows ? (info?.NetworkInfo?.Ipv4AddressesPerInterface ?? 2) - 1 : maxPods(type) ?? 110);
    const vcpus = info?.VCpuInfo?.DefaultVCpus ?? 2;
    const memoryKi = Math.floor((info?.MemoryInfo?.SizeInMiB ?? 4096) * 1024 * 0.96);
    const reservedMemoryKi = (255 + 11 * pods + 100) * 1024;
    const diskKi = (ec2.volumes.get(record.volumeIds[0] ?? '')?.Size ?? 20) * 1024 * 1024;
    const kubeletVersion = image.kubeletVersion ?? `v${cluster.cluster.version}.0-eks-sandbox`;
    const now = clock.iso().replace(/\.\d{3}Z$/, 'Z');
    const condition = (type: string, status: 'True' | 'False', reason: string, message: string) => ({
      type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now,
    });
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'beta.kubernetes.io/arch': arch,
          'beta.kubernetes.io/instance-type': type,
          'beta.kubernetes.io/os': windows ? 'windows' : 'linux',
          'failure-domain.beta.kubernetes.io/region': region,
          'failure-domain.beta.kubernetes.io/zone': az,
          'k8s.io/cloud-provider-aws': ids.hex(32),
          'kubernetes.io/arch': arch,
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': windows ? 'windows' : 'linux',
          'node.kubernetes.io/instance-type': type,
          'topology.k8s.aws/zone-id': record.subnet.subnet.AvailabilityZoneId ?? '',
          'topology.kubernetes.io/region': region,
          'topology.kubernetes.io/zone': az,
          ...intent.labels,
        },
        annotations: {
          'alpha.kubernetes.io/provided-node-ip': i.PrivateIpAddress ?? '',
          'node.alpha.kubernetes.io/ttl': '0',
          'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        },
        creationTimestamp: now,
      },
      spec: {
        providerID: `aws:///${az}/${i.InstanceId}`,
        ...(intent.taints.length ? { taints: intent.taints.map((t) => ({ ...t })) } : {}),
      },
      status: {
        capacity: { cpu: String(vcpus), memory: `${memoryKi}Ki`, pods: String(pods), 'ephemeral-storage': `${diskKi}Ki`, 'hugepages-1Gi': '0', 'hugepages-2Mi': '0' },
        allocatable: {
          cpu: `${vcpus * 1000 - reservedCpuMillis(vcpus)}m`,
          memory: `${memoryKi - reservedMemoryKi}Ki`,
          pods: String(pods),
          'ephemeral-storage': String(Math.floor(diskKi * 1024 * 0.9)),
          'hugepages-1Gi': '0',
          'hugepages-2Mi': '0',
        },
        conditions: [
          condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          condition('Ready', 'False', 'KubeletNotReady', NEVER_READY_MESSAGE),
        ],
        addresses: [
          { type: 'InternalIP', address: i.PrivateIpAddress ?? '' },
          { type: 'InternalDNS', address: name },
          { type: 'Hostname', address: name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          machineID: ids.hex(32),
          systemUUID: `ec2${ids.hex(5)}-${ids.hex(4)}-${ids.hex(4)}-${ids.hex(4)}-${ids.hex(12)}`,
          bootID: ids.uuid(),
          kernelVersion: kernel(image.family!, arch),
          osImage: osImage(image.family!, image.image.Name),
          containerRuntimeVersion: 'containerd://1.7.27',
          kubeletVersion,
          kubeProxyVersion: kubeletVersion,
          operatingSystem: windows ? 'windows' : 'linux',
          architecture: arch,
        },
      },
    };
  }

  private record(note: Omit<KubeletNote, 'at' | 'time'>): void {
    const full: KubeletNote = { at: this.account.clock.now(), time: this.account.clock.iso(), ...note };
    this.notes.push(full);
    const what = note.joined ? `joined ${note.cluster} as ${note.nodeName}` : `did not join${note.cluster ? ` ${note.cluster}` : ''}`;
    this.account.note('kubelet', `${note.instanceId}: ${what}${note.reason ? ` (${note.reason})` : ''}`, note.instanceId);
  }
}

/** kube-reserved CPU as the EKS AMIs compute it: 6 % of the first core, 1 % of the second, 0.5 % of the next two, 0.25 % above. */
function reservedCpuMillis(vcpus: number): number {
  let reserved = 0;
  for (let core = 1; core <= vcpus; core++) reserved += core === 1 ? 60 : core === 2 ? 10 : core <= 4 ? 5 : 2.5;
  return Math.round(reserved);
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '').toLowerCase();
}

function kernel(family: string, arch: string): string {
  const machine = arch === 'arm64' ? 'aarch64' : 'x86_64';
  switch (family) {
    case 'al2023': return `6.1.156-177.286.amzn2023.${machine}`;
    case 'al2': return `5.10.245-241.976.amzn2.${machine}`;
    case 'bottlerocket': return '6.1.155';
    default: return '10.0.20348.4294';
  }
}

function osImage(family: string, imageName: string): string {
  switch (family) {
    case 'al2023': return 'Amazon Linux 2023.9.20261105';
    case 'al2': return 'Amazon Linux 2';
    case 'bottlerocket': return `Bottlerocket OS ${/-v(\d+\.\d+\.\d+)-/.exec(imageName)?.[1] ?? '1.50.0'} (aws-k8s)`;
    default: return `Windows Server ${/Windows_Server-(\d{4})/.exec(imageName)?.[1] ?? '2022'} Datacenter`;
  }
}
