import type { ResourceInfo } from './resources.js';
import { humanDuration } from './timestamps.js';
import {
  conditionOf,
  type ConfigMap,
  type DaemonSet,
  type Deployment,
  type KubeEvent,
  type KubeNode,
  type KubeObject,
  type Namespace,
  type Pod,
  type PodDisruptionBudget,
  type ReplicaSet,
  type ResourceName,
} from './types.js';

/**
 * Server-side printing: `kubectl get` asks for a meta.k8s.io/v1 Table and prints its cells
 * as they come, so the columns here are those of the real API server's printers
 * (pkg/printers/internalversion), with ages measured on the virtual clock.
 */

type Cell = string | number;

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format?: string;
  description: string;
  priority: number;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const col = (name: string, description: string, priority = 0, type: Column['type'] = 'string', format = ''): Column => ({
  name,
  type,
  format,
  description,
  priority,
});

const NAME = col('Name', 'Name must be unique within a namespace.', 0, 'string', 'name');
const AGE = col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

function age(object: KubeObject, now: number): string {
  const created = object.metadata.creationTimestamp;
  return created ? humanDuration(now - Date.parse(created)) : '<unknown>';
}

function nodeStatus(node: KubeNode): string {
  const ready = conditionOf(node.status?.conditions, 'Ready')?.status;
  const status = ready === 'True' ? 'Ready' : ready === 'False' ? 'NotReady' : 'Unknown';
  return node.spec?.unschedulable ? `${status},SchedulingDisabled` : status;
}

function nodeRoles(node: KubeNode): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/')) roles.add(key.slice('node-role.kubernetes.io/'.length));
    if (key === 'kubernetes.io/role' && value) roles.add(value);
  }
  return roles.size > 0 ? [...roles].sort().join(',') : '<none>';
}

function address(node: KubeNode, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

/** printPod, shortened: the container's waiting/terminated reason wins over the phase; Terminating wins over all. */
function podStatus(pod: Pod): string {
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
  for (const status of pod.status?.containerStatuses ?? []) {
    const state = status.state as { waiting?: { reason?: string }; terminated?: { reason?: string } } | undefined;
    if (state?.waiting?.reason) reason = state.waiting.reason;
    else if (state?.terminated?.reason) reason = state.terminated.reason;
  }
  if (pod.metadata.deletionTimestamp) reason = pod.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

/** printPod's RESTARTS: the count and, once there is one, how long ago the last container exited. */
function podRestarts(pod: Pod, now: number): string {
  const statuses = pod.status?.containerStatuses ?? [];
  const restarts = statuses.reduce((sum, c) => sum + c.restartCount, 0);
  const exits = statuses.map((c) => Date.parse((c['lastState'] as { terminated?: { finishedAt?: string } } | undefined)?.terminated?.finishedAt ?? '')).filter((t) => !Number.isNaN(t));
  return restarts !== 0 && exits.length > 0 ? `${restarts} (${humanDuration(now - Math.max(...exits))} ago)` : String(restarts);
}

function podReady(pod: Pod): string {
  const ready = (pod.status?.containerStatuses ?? []).filter((c) => c.ready).length;
  return `${ready}/${pod.spec.containers.length}`;
}

function intOrPercent(value: number | string | undefined): string {
  return value === undefined ? 'N/A' : String(value);
}

function containers(template: { spec: { containers: { name: string; image?: string }[] } }): [string, string] {
  return [template.spec.containers.map((c) => c.name).join(','), template.spec.containers.map((c) => c.image ?? '').join(',')];
}

function selectorText(selector: { matchLabels?: Record<string, string> } | undefined): string {
  const labels = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  return labels.length > 0 ? labels.join(',') : '<none>';
}

interface Printer {
  columns: Column[];
  cells(object: KubeObject, now: number): Cell[];
}

const PRINTERS: Partial<Record<ResourceName, Printer>> = {
  nodes: {
    columns: [
      NAME,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE,
      col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of internal IPs.', 1),
      col('External-IP', 'List of external IPs.', 1),
      col('OS-Image', 'OS image reported by the node.', 1),
      col('Kernel-Version', 'Kernel version reported by the node.', 1),
      col('Container-Runtime', 'Container runtime reported by the node.', 1),
    ],
    cells(object, now) {
      const node = object as KubeNode;
      const info = node.status?.nodeInfo;
      return [
        node.metadata.name!, nodeStatus(node), nodeRoles(node), age(node, now), info?.kubeletVersion ?? '',
        address(node, 'InternalIP'), address(node, 'ExternalIP'), info?.osImage ?? '<unknown>',
        info?.kernelVersion ?? '<unknown>', info?.containerRuntimeVersion ?? '<unknown>',
      ];
    },
  },
  pods: {
    columns: [
      NAME,
      col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE,
      col('IP', 'The IP address assigned to the pod', 1),
      col('Node', 'The name of the node this pod is scheduled on', 1),
      col('Nominated Node', 'The name of the node this pod is nominated to run on', 1),
      col('Readiness Gates', 'The readiness gates of the pod', 1),
    ],
    cells(object, now) {
      const pod = object as Pod;
      const restarts = podRestarts(pod, now);
      return [
        pod.metadata.name!, podReady(pod), podStatus(pod), restarts, age(pod, now),
        pod.status?.podIP ?? '<none>', pod.spec.nodeName ?? '<none>', pod.status?.nominatedNodeName ?? '<none>', '<none>',
      ];
    },
  },
  namespaces: {
    columns: [NAME, col('Status', 'The status of the namespace'), AGE],
    cells: (object, now) => [object.metadata.name!, (object as Namespace).status?.phase ?? 'Active', age(object, now)],
  },
  poddisruptionbudgets: {
    columns: [
      NAME,
      col('Min Available', 'The minimum number of pods that must be available.'),
      col('Max Unavailable', 'The maximum number of pods that may be unavailable.'),
      col('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time.', 0, 'integer'),
      AGE,
    ],
    cells(object, now) {
      const pdb = object as PodDisruptionBudget;
      return [pdb.metadata.name!, intOrPercent(pdb.spec.minAvailable), intOrPercent(pdb.spec.maxUnavailable), pdb.status?.disruptionsAllowed ?? 0, age(pdb, now)];
    },
  },
  deployments: {
    columns: [
      NAME,
      col('Ready', 'Number of the pod with ready state'),
      col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', 0, 'integer'),
      col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', 0, 'integer'),
      AGE,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Label selector for pods.', 1),
    ],
    cells(object, now) {
      const d = object as Deployment;
      const [names, images] = containers(d.spec.template);
      return [
        d.metadata.name!, `${d.status?.readyReplicas ?? 0}/${d.spec.replicas ?? 1}`, d.status?.updatedReplicas ?? 0,
        d.status?.availableReplicas ?? 0, age(d, now), names, images, selectorText(d.spec.selector),
      ];
    },
  },
  replicasets: {
    columns: [
      NAME,
      col('Desired', 'Number of desired pods.', 0, 'integer'),
      col('Current', 'Number of actual pods.', 0, 'integer'),
      col('Ready', 'Number of ready pods.', 0, 'integer'),
      AGE,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Label selector for pods.', 1),
    ],
    cells(object, now) {
      const rs = object as ReplicaSet;
      const [names, images] = containers(rs.spec.template);
      return [rs.metadata.name!, rs.spec.replicas ?? 1, rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0, age(rs, now), names, images, selectorText(rs.spec.selector)];
    },
  },
  daemonsets: {
    columns: [
      NAME,
      col('Desired', 'The total number of nodes that should be running the daemon pod.', 0, 'integer'),
      col('Current', 'The number of nodes that are running at least one daemon pod.', 0, 'integer'),
      col('Ready', 'The number of nodes that should be running the daemon pod and have it Ready.', 0, 'integer'),
      col('Up-to-date', 'The total number of nodes that are running updated daemon pod.', 0, 'integer'),
      col('Available', 'The number of nodes that should be running the daemon pod and have it available.', 0, 'integer'),
      col('Node Selector', 'The node selector of the daemon pods.'),
      AGE,
      col('Containers', 'Names of each container in the template.', 1),
      col('Images', 'Images referenced by each container in the template.', 1),
      col('Selector', 'Label selector for pods.', 1),
    ],
    cells(object, now) {
      const ds = object as DaemonSet;
      const s = ds.status;
      const [names, images] = containers(ds.spec.template);
      const nodeSelector = Object.entries(ds.spec.template.spec.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
      return [
        ds.metadata.name!, s?.desiredNumberScheduled ?? 0, s?.currentNumberScheduled ?? 0, s?.numberReady ?? 0,
        s?.updatedNumberScheduled ?? 0, s?.numberAvailable ?? 0, nodeSelector, age(ds, now), names, images, selectorText(ds.spec.selector),
      ];
    },
  },
  configmaps: {
    columns: [NAME, col('Data', 'Number of data entries in the ConfigMap.', 0, 'integer'), AGE],
    cells(object, now) {
      const cm = object as ConfigMap;
      return [cm.metadata.name!, Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm, now)];
    },
  },
  events: {
    columns: [
      col('Last Seen', 'Time since the event was last seen'),
      col('Type', 'Type of this event'),
      col('Reason', 'Short, machine understandable string that gives the reason for this event'),
      col('Object', 'The object this event is about'),
      col('Message', 'A human-readable description of the status of this operation.'),
    ],
    cells(object, now) {
      const e = object as KubeEvent;
      const last = (e['lastTimestamp'] as string | undefined) ?? (e['eventTime'] as string | undefined) ?? e.metadata.creationTimestamp;
      const involved = e.involvedObject;
      return [
        last ? humanDuration(now - Date.parse(last)) : '<unknown>', e.type ?? '', e.reason ?? '',
        `${(involved?.kind ?? '').toLowerCase()}/${involved?.name ?? ''}`, e.message ?? '',
      ];
    },
  },
};

const DEFAULT_PRINTER: Printer = {
  columns: [NAME, col('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', 0, 'date')],
  cells: (object) => [object.metadata.name!, object.metadata.creationTimestamp ?? ''],
};

function rowObject(object: KubeObject, include: IncludeObject): unknown {
  if (include === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

export function toTable(
  info: ResourceInfo,
  objects: readonly KubeObject[],
  options: { now: number; resourceVersion: string; include: IncludeObject; withColumns?: boolean },
): unknown {
  const printer = PRINTERS[info.name] ?? DEFAULT_PRINTER;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: options.resourceVersion },
    ...(options.withColumns === false ? {} : { columnDefinitions: printer.columns }),
    rows: objects.map((object) => ({
      cells: printer.cells(object, options.now),
      ...(options.include === 'None' ? {} : { object: rowObject(object, options.include) }),
    })),
  };
}
