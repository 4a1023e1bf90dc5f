import { placePod } from './scheduling.js';
import type { KubeStore } from './store.js';
import { rfc3339 } from './timestamps.js';
import type {
  Condition,
  DaemonSet,
  Deployment,
  IntOrPercent,
  KubeNode,
  LabelSelector,
  Labels,
  OwnerReference,
  Pod,
  PodDisruptionBudget,
  PodStatus,
  PodTemplateSpec,
  ReplicaSet,
  Toleration,
} from './types.js';

/**
 * Workloads for the sandbox: pods as their controllers stamp them out, and helpers that put
 * a workload into a cluster already running (pods bound and Ready), the state a rollout
 * starts from. The controllers (controllers.ts) keep them so afterwards.
 */

const DEFAULT_IMAGE = 'public.ecr.aws/nginx/nginx:1.27';

/** rand.SafeEncodeString of the decimal hash, as pod-template-hash and controller-revision-hash are written. */
function templateHash(template: unknown): string {
  let hash = 0x811c9dc5;
  for (const ch of JSON.stringify(template)) {
    hash ^= ch.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...String(hash)].map((d) => alphabet[d.charCodeAt(0) % alphabet.length]).join('');
}

export function ownerReference(owner: { apiVersion?: string; kind?: string; metadata: { name?: string; uid?: string } }): OwnerReference {
  return {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * A pod stamped from a controller's template (not yet created), named as the controllers
 * name them: `generateName` `<owner>-`, the API server adding a suffix no other pod has.
 */
export function podFromTemplate(template: PodTemplateSpec, namespace: string, owner: OwnerReference): Pod {
  return {
    metadata: {
      generateName: `${owner.name}-`,
      namespace,
      labels: { ...template.metadata?.labels },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [owner],
    },
    spec: structuredClone(template.spec),
    status: { phase: 'Pending' },
  };
}

const podAddresses = new WeakMap<KubeStore, number>();

/** The status the kubelet reports once every container runs and passes its readiness probe. */
export function runningStatus(store: KubeStore, pod: Pod, node: KubeNode | undefined): PodStatus {
  const now = rfc3339(store.clock.now());
  const n = (podAddresses.get(store) ?? 0) + 1;
  podAddresses.set(store, n);
  const podIP = pod.status?.podIP ?? `10.0.${Math.floor(n / 250) + 100}.${(n % 250) + 2}`;
  const hostIP = node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '10.0.0.10';
  const condition = (type: string): Condition => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
  return {
    ...pod.status,
    phase: 'Running',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(condition),
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: pod.status?.startTime ?? now,
    containerStatuses: pod.spec.containers.map((container) => ({
      name: container.name,
      image: container.image ?? DEFAULT_IMAGE,
      imageID: `${container.image ?? DEFAULT_IMAGE}@sha256:${'0'.repeat(64)}`,
      containerID: `containerd://${store.uuid().replace(/-/g, '')}`,
      ready: true,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: now } },
    })),
  };
}

/** The scheduler's binding: spec.nodeName and the PodScheduled condition. */
export function bindPod(store: KubeStore, pod: Pod, nodeName: string): Pod {
  const now = rfc3339(store.clock.now());
  return store.update('pods', pod.metadata.namespace, pod.metadata.name!, (p) => {
    p.spec.nodeName = nodeName;
    const conditions = (p.status ??= {}).conditions ?? [];
    p.status.conditions = [...conditions.filter((c) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }];
  });
}

export function startPod(store: KubeStore, pod: Pod): Pod {
  const node = pod.spec.nodeName ? store.get('nodes', undefined, pod.spec.nodeName) : undefined;
  return store.update('pods', pod.metadata.namespace, pod.metadata.name!, (p) => {
    p.status = runningStatus(store, p, node);
  });
}

/** Creates the pod, places it as the scheduler would and, if it found a node, starts it at once. */
function createRunningPod(store: KubeStore, pod: Pod): Pod {
  const created = store.create('pods', pod);
  if (created.spec.nodeName) return startPod(store, created);
  const placement = placePod(created, store.view('nodes'), store.view('pods'));
  if (!placement.placed) return created;
  return startPod(store, bindPod(store, created, placement.node));
}

export function ensureNamespace(store: KubeStore, name: string): void {
  if (!store.get('namespaces', undefined, name)) store.create('namespaces', { metadata: { name } });
}

function podTemplate(labels: Labels, options: { terminationGracePeriodSeconds?: number; tolerations?: Toleration[]; nodeSelector?: Labels; image?: string; containerName?: string }): PodTemplateSpec {
  return {
    metadata: { labels: { ...labels } },
    spec: {
      containers: [{ name: options.containerName ?? 'app', image: options.image ?? DEFAULT_IMAGE }],
      terminationGracePeriodSeconds: options.terminationGracePeriodSeconds ?? 30,
      ...(options.tolerations ? { tolerations: options.tolerations } : {}),
      ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
    },
  };
}

export interface DeploymentInput {
  namespace: string;
  name: string;
  replicas: number;
  labels: Labels;
  terminationGracePeriodSeconds?: number;
  tolerations?: Toleration[];
  nodeSelector?: Labels;
  image?: string;
}

/** The ReplicaSet a Deployment owns for its current template. */
export function replicaSetFor(deployment: Deployment): ReplicaSet {
  const hash = templateHash(deployment.spec.template);
  const labels = { ...deployment.spec.template.metadata?.labels, 'pod-template-hash': hash };
  return {
    metadata: {
      name: `${deployment.metadata.name}-${hash}`,
      namespace: deployment.metadata.namespace!,
      labels,
      annotations: { 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': String(deployment.spec.replicas ?? 1) },
      ownerReferences: [ownerReference(deployment)],
    },
    spec: {
      replicas: deployment.spec.replicas ?? 1,
      selector: { matchLabels: { ...deployment.spec.selector.matchLabels, 'pod-template-hash': hash } },
      template: { ...deployment.spec.template, metadata: { ...deployment.spec.template.metadata, labels } },
    },
  };
}

export function createDeployment(store: KubeStore, input: DeploymentInput): { deployment: Deployment; replicaSet: ReplicaSet; pods: Pod[] } {
  ensureNamespace(store, input.namespace);
  const deployment = store.create('deployments', {
    metadata: { name: input.name, namespace: input.namespace, labels: { ...input.labels }, annotations: { 'deployment.kubernetes.io/revision': '1' } },
    spec: {
      replicas: input.replicas,
      selector: { matchLabels: { ...input.labels } },
      template: podTemplate(input.labels, input),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    },
  });
  const replicaSet = store.create('replicasets', replicaSetFor(deployment));
  const pods: Pod[] = [];
  for (let i = 0; i < input.replicas; i++) {
    pods.push(createRunningPod(store, podFromTemplate(replicaSet.spec.template, input.namespace, ownerReference(replicaSet))));
  }
  return { deployment, replicaSet, pods };
}

/** The tolerations the DaemonSet controller adds to every daemon pod. */
export const DAEMON_POD_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** A daemon pod for one node: the template plus the controller's tolerations and node affinity. */
export function daemonPodFor(daemonSet: DaemonSet, nodeName: string): Pod {
  const pod = podFromTemplate(daemonSet.spec.template, daemonSet.metadata.namespace!, ownerReference(daemonSet));
  pod.metadata.labels = {
    ...pod.metadata.labels,
    'controller-revision-hash': templateHash(daemonSet.spec.template).slice(0, 10),
    'pod-template-generation': String(daemonSet.metadata.generation ?? 1),
  };
  const own = pod.spec.tolerations ?? [];
  pod.spec.tolerations = [...own, ...DAEMON_POD_TOLERATIONS.filter((t) => !own.some((o) => o.key === t.key && o.effect === t.effect))];
  pod.spec.affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
      },
    },
  };
  pod.spec.nodeName = nodeName;
  return pod;
}

export interface DaemonSetInput {
  namespace: string;
  name: string;
  labels: Labels;
  terminationGracePeriodSeconds?: number;
  tolerations?: Toleration[];
  nodeSelector?: Labels;
  image?: string;
}

export function createDaemonSet(store: KubeStore, input: DaemonSetInput): { daemonSet: DaemonSet; pods: Pod[] } {
  ensureNamespace(store, input.namespace);
  const daemonSet = store.create('daemonsets', {
    metadata: { name: input.name, namespace: input.namespace, labels: { ...input.labels } },
    spec: {
      selector: { matchLabels: { ...input.labels } },
      template: podTemplate(input.labels, input),
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    },
  });
  const pods: Pod[] = [];
  for (const node of store.list('nodes')) {
    const pod = daemonPodFor(daemonSet, node.metadata.name!);
    if (!daemonPodFits(pod, node)) continue;
    pods.push(createRunningPod(store, pod));
  }
  return { daemonSet, pods };
}

/** A daemon pod belongs on a Ready node whose taints it tolerates and whose labels it selects. */
export function daemonPodFits(pod: Pod, node: KubeNode): boolean {
  const fit = placePod({ ...pod, spec: { ...pod.spec, nodeName: undefined } }, [node], []);
  return fit.placed;
}

export interface PdbInput {
  namespace: string;
  name: string;
  /** matchLabels, or a full LabelSelector */
  selector: Labels | LabelSelector;
  minAvailable?: IntOrPercent;
  maxUnavailable?: IntOrPercent;
  unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow';
}

function isLabelSelector(selector: Labels | LabelSelector): selector is LabelSelector {
  return typeof selector.matchLabels === 'object' || Array.isArray(selector.matchExpressions);
}

export function createPdb(store: KubeStore, input: PdbInput): PodDisruptionBudget {
  if ((input.minAvailable === undefined) === (input.maxUnavailable === undefined)) {
    throw new Error(`createPdb ${input.namespace}/${input.name}: give exactly one of minAvailable and maxUnavailable`);
  }
  ensureNamespace(store, input.namespace);
  return store.create('poddisruptionbudgets', {
    metadata: { name: input.name, namespace: input.namespace },
    spec: {
      selector: isLabelSelector(input.selector) ? input.selector : { matchLabels: { ...input.selector } },
      ...(input.minAvailable !== undefined ? { minAvailable: input.minAvailable } : {}),
      ...(input.maxUnavailable !== undefined ? { maxUnavailable: input.maxUnavailable } : {}),
      ...(input.unhealthyPodEvictionPolicy ? { unhealthyPodEvictionPolicy: input.unhealthyPodEvictionPolicy } : {}),
    },
  });
}

export interface NakedPodInput {
  namespace: string;
  name: string;
  nodeName?: string;
  labels?: Labels;
  terminationGracePeriodSeconds?: number;
  ownerReferences?: OwnerReference[];
}

/** A pod with no controller (kubectl drain refuses these without --force). Running at once if placed. */
export function createPod(store: KubeStore, input: NakedPodInput): Pod {
  ensureNamespace(store, input.namespace);
  const template = podTemplate(input.labels ?? {}, input);
  return createRunningPod(store, {
    metadata: { name: input.name, namespace: input.namespace, labels: { ...input.labels }, ...(input.ownerReferences ? { ownerReferences: input.ownerReferences } : {}) },
    spec: { ...template.spec, ...(input.nodeName ? { nodeName: input.nodeName } : {}) },
    status: { phase: 'Pending' },
  });
}
