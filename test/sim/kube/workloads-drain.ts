import { createNode } from './nodes.js';
import type { KubeStore } from './store.js';
import type { Deployment, KubeNode, Labels, Pod, PodTemplateSpec } from './types.js';
import { createDaemonSet, createPdb, createPod, ensureNamespace, ownerReference, podFromTemplate, replicaSetFor, startPod } from './workloads.js';

/**
 * A node worth draining, as a busy EKS worker looks: every pod kind `kubectl drain` treats
 * differently, all bound to the node and Ready, and spare nodes where replacements can land.
 *
 * On the node, `pods` pods in all:
 * - DaemonSet pods `kube-system/aws-node` and `kube-system/kube-proxy` (drain skips them);
 * - a mirror pod, as the kubelet posts for a static pod (annotation
 *   `kubernetes.io/config.mirror`, owned by the Node; drain skips it);
 * - `default/debug-shell`, a bare pod (drain deletes it only with --force);
 * - Deployment `shop/checkout` under PDB `shop/checkout` with maxUnavailable 1, so its pods
 *   can only leave one at a time, each once the previous one's replacement is Ready;
 * - Deployment `shop/image-cache`, whose pods use an emptyDir volume (--delete-emptydir-data);
 * - the rest spread over ordinary Deployments in `shop`, `payments` and `observability`.
 *
 * Deployment pods are created bound to the node (as if scheduled there earlier); their
 * templates name no node, so the ReplicaSet controller's replacements go to the spare nodes.
 * Ids are `namespace/name`.
 */

export interface DrainNodeOptions {
  /** pods on the node, all kinds together; at least 8 */
  pods: number;
  /** Ready, schedulable nodes besides it; default 3 */
  spareNodes?: number;
  /** replicas of the Deployment whose budget lets one go at a time; default 3 */
  budgetedReplicas?: number;
}

export interface DrainNodeWorkloads {
  node: string;
  spareNodes: string[];
  /** every pod created on the node */
  pods: string[];
  daemonSetPods: string[];
  mirrorPod: string;
  barePod: string;
  emptyDirPods: string[];
  /** pods of the Deployment under the maxUnavailable-1 budget */
  budgetedPods: string[];
  pdbs: string[];
  deployments: string[];
  /** what a drain must remove: every pod on the node but the DaemonSet and mirror pods */
  evictable: string[];
}

const MIN_PODS = 8;

/** Ordinary Deployments that take whatever the node has room for, in this order. */
const FILLERS: readonly { namespace: string; name: string }[] = [
  { namespace: 'shop', name: 'web' },
  { namespace: 'shop', name: 'catalog' },
  { namespace: 'shop', name: 'cart' },
  { namespace: 'payments', name: 'api' },
  { namespace: 'payments', name: 'ledger-worker' },
  { namespace: 'observability', name: 'otel-gateway' },
];

const IMAGE = 'public.ecr.aws/nginx/nginx:1.27';

/** An EC2 instance id: i- and 17 hex digits. */
const instanceId = (n: number): string => `i-0${n.toString(16).padStart(16, '0')}`;

const idOf = (object: { metadata: { namespace?: string; name?: string } }): string => `${object.metadata.namespace}/${object.metadata.name}`;

export function populateNodeForDrain(store: KubeStore, nodeName: string, options: DrainNodeOptions): DrainNodeWorkloads {
  const budgetedReplicas = options.budgetedReplicas ?? 3;
  const spareCount = options.spareNodes ?? 3;
  if (!Number.isInteger(options.pods) || options.pods < MIN_PODS) {
    throw new Error(`populateNodeForDrain: pods must be an integer ≥ ${MIN_PODS} (one of each kind), got ${options.pods}`);
  }
  if (!Number.isInteger(budgetedReplicas) || budgetedReplicas < 1 || !Number.isInteger(spareCount) || spareCount < 1) {
    throw new Error('populateNodeForDrain: budgetedReplicas and spareNodes must be positive integers');
  }
  // 2 daemon pods, the mirror pod, the bare pod, 2 emptyDir pods, the budgeted ones, ≥ 1 filler
  const emptyDirReplicas = 2;
  const fillerPods = options.pods - 4 - emptyDirReplicas - budgetedReplicas;
  if (fillerPods < 1) throw new Error(`populateNodeForDrain: ${options.pods} pods leave no room for ${budgetedReplicas} budgeted replicas`);

  // 1. the nodes: the one to drain, then spares (daemon pods go on all of them)
  const node = store.get('nodes', undefined, nodeName) ?? createNode(store, { name: nodeName, providerID: `aws:///eu-west-1a/${instanceId(0xd1a1)}` });
  const spareNodes = createSpareNodes(store, spareCount);

  // 2. the Deployments, their pods bound to the node
  const deployments: string[] = [];
  const budgeted = deployOnNode(store, node, { namespace: 'shop', name: 'checkout', replicas: budgetedReplicas });
  deployments.push(idOf(budgeted.deployment));
  const pdb = createPdb(store, { namespace: 'shop', name: 'checkout', selector: { app: 'checkout' }, maxUnavailable: 1 });
  const emptyDir = deployOnNode(store, node, { namespace: 'shop', name: 'image-cache', replicas: emptyDirReplicas, emptyDir: true });
  deployments.push(idOf(emptyDir.deployment));
  const fillers: Pod[] = [];
  const fillerCount = Math.min(FILLERS.length, fillerPods);
  for (let i = 0; i < fillerCount; i++) {
    // spread evenly; the first Deployments take the remainder
    const replicas = Math.floor(fillerPods / fillerCount) + (i < fillerPods % fillerCount ? 1 : 0);
    const filler = deployOnNode(store, node, { ...FILLERS[i]!, replicas });
    deployments.push(idOf(filler.deployment));
    fillers.push(...filler.pods);
  }

  // 3. the bare pod and the mirror pod
  const bare = createPod(store, { namespace: 'default', name: 'debug-shell', nodeName, labels: { run: 'debug-shell' } });
  const mirror = createMirrorPod(store, node);

  // 4. the DaemonSets, once every node is there
  const daemonSetPods: Pod[] = [];
  for (const name of ['aws-node', 'kube-proxy']) {
    const { pods } = createDaemonSet(store, { namespace: 'kube-system', name, labels: { 'k8s-app': name } });
    daemonSetPods.push(...pods.filter((pod) => pod.spec.nodeName === nodeName));
  }

  const evictable = [...budgeted.pods, ...emptyDir.pods, ...fillers, bare].map(idOf);
  return {
    node: nodeName,
    spareNodes,
    pods: [...daemonSetPods.map(idOf), idOf(mirror), ...evictable],
    daemonSetPods: daemonSetPods.map(idOf),
    mirrorPod: idOf(mirror),
    barePod: idOf(bare),
    emptyDirPods: emptyDir.pods.map(idOf),
    budgetedPods: budgeted.pods.map(idOf),
    pdbs: [idOf(pdb)],
    deployments,
    evictable,
  };
}

/** Spare nodes across three zones, named as EKS names them; names already taken are skipped. */
function createSpareNodes(store: KubeStore, count: number): string[] {
  const names: string[] = [];
  for (let i = 0; names.length < count; i++) {
    const zone = `eu-west-1${'abc'[i % 3]}`;
    const ip = `10.0.${64 + (i % 3) * 32}.${10 + i}`;
    const name = `ip-${ip.replaceAll('.', '-')}.eu-west-1.compute.internal`;
    if (store.get('nodes', undefined, name)) continue;
    createNode(store, { name, zone, internalIP: ip, providerID: `aws:///${zone}/${instanceId(0x5a0 + i)}` });
    names.push(name);
  }
  return names;
}

interface OnNodeInput {
  namespace: string;
  name: string;
  replicas: number;
  emptyDir?: boolean;
}

/**
 * A Deployment and its ReplicaSet as createDeployment makes them, but with every pod bound
 * to `node` rather than placed by the scheduler; the template itself is free to go anywhere.
 */
function deployOnNode(store: KubeStore, node: KubeNode, input: OnNodeInput): { deployment: Deployment; pods: Pod[] } {
  ensureNamespace(store, input.namespace);
  const labels: Labels = { app: input.name };
  const template: PodTemplateSpec = {
    metadata: { labels: { ...labels } },
    spec: {
      containers: [{ name: 'app', image: IMAGE, ...(input.emptyDir ? { volumeMounts: [{ name: 'cache', mountPath: '/var/cache/app' }] } : {}) }],
      terminationGracePeriodSeconds: 30,
      ...(input.emptyDir ? { volumes: [{ name: 'cache', emptyDir: {} }] } : {}),
    },
  };
  const deployment = store.create('deployments', {
    metadata: { name: input.name, namespace: input.namespace, labels: { ...labels }, annotations: { 'deployment.kubernetes.io/revision': '1' } },
    spec: {
      replicas: input.replicas,
      selector: { matchLabels: { ...labels } },
      template,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    },
  });
  const replicaSet = store.create('replicasets', replicaSetFor(deployment));
  const pods: Pod[] = [];
  for (let i = 0; i < input.replicas; i++) {
    const pod = podFromTemplate(replicaSet.spec.template, input.namespace, ownerReference(replicaSet));
    pod.spec.nodeName = node.metadata.name!;
    pods.push(startPod(store, store.create('pods', pod)));
  }
  return { deployment, pods };
}

/**
 * The mirror pod the kubelet posts for a static pod from /etc/kubernetes/manifests: named
 * after the node, owned by the Node, and marked by `kubernetes.io/config.mirror`.
 */
function createMirrorPod(store: KubeStore, node: KubeNode): Pod {
  const nodeName = node.metadata.name!;
  const hash = store.uuid().replaceAll('-', '').slice(0, 32);
  const created = store.create('pods', {
    metadata: {
      name: `node-problem-detector-${nodeName}`,
      namespace: 'kube-system',
      labels: { 'k8s-app': 'node-problem-detector', tier: 'node' },
      annotations: {
        'kubernetes.io/config.hash': hash,
        'kubernetes.io/config.mirror': hash,
        'kubernetes.io/config.seen': store.clock.iso(),
        'kubernetes.io/config.source': 'file',
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid!, controller: true }],
    },
    spec: {
      nodeName,
      containers: [{ name: 'node-problem-detector', image: 'registry.k8s.io/node-problem-detector/node-problem-detector:v0.8.20' }],
      priorityClassName: 'system-node-critical',
      priority: 2_000_001_000,
      tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
      hostNetwork: true,
      terminationGracePeriodSeconds: 30,
    },
    status: { phase: 'Pending' },
  });
  return startPod(store, created);
}
