import type { ResourceName } from './types.js';

/**
 * What the API server knows about each resource: where it lives in the API, whether it is
 * namespaced, and what discovery tells clients (kubectl maps `kubectl get no` to `nodes`
 * through the short names and builds its REST paths from group/version/namespaced).
 */
export interface ResourceInfo {
  name: ResourceName;
  singularName: string;
  kind: string;
  group: '' | 'apps' | 'policy';
  version: 'v1';
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  categories?: string[];
  /** metadata.generation is kept (bumped on every spec change), as for workload objects. */
  hasGeneration: boolean;
  /** The object has a status subresource: writes to the main resource leave status alone. */
  hasStatus: boolean;
  /** Fields a fieldSelector may name beyond metadata.name / metadata.namespace. */
  selectableFields: string[];
}

const READ_WRITE = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: Readonly<Record<ResourceName, ResourceInfo>> = {
  nodes: {
    name: 'nodes', singularName: 'node', kind: 'Node', group: '', version: 'v1', namespaced: false,
    shortNames: ['no'], verbs: READ_WRITE, hasGeneration: false, hasStatus: true,
    selectableFields: ['spec.unschedulable'],
  },
  pods: {
    name: 'pods', singularName: 'pod', kind: 'Pod', group: '', version: 'v1', namespaced: true,
    shortNames: ['po'], verbs: READ_WRITE, categories: ['all'], hasGeneration: false, hasStatus: true,
    selectableFields: [
      'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName',
      'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName',
    ],
  },
  namespaces: {
    name: 'namespaces', singularName: 'namespace', kind: 'Namespace', group: '', version: 'v1', namespaced: false,
    shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    hasGeneration: false, hasStatus: true, selectableFields: ['status.phase'],
  },
  events: {
    name: 'events', singularName: 'event', kind: 'Event', group: '', version: 'v1', namespaced: true,
    shortNames: ['ev'], verbs: READ_WRITE, hasGeneration: false, hasStatus: false,
    selectableFields: [
      'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
      'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
      'reason', 'reportingComponent', 'source', 'type',
    ],
  },
  poddisruptionbudgets: {
    name: 'poddisruptionbudgets', singularName: 'poddisruptionbudget', kind: 'PodDisruptionBudget',
    group: 'policy', version: 'v1', namespaced: true, shortNames: ['pdb'], verbs: READ_WRITE,
    hasGeneration: true, hasStatus: true, selectableFields: [],
  },
  daemonsets: {
    name: 'daemonsets', singularName: 'daemonset', kind: 'DaemonSet', group: 'apps', version: 'v1', namespaced: true,
    shortNames: ['ds'], verbs: READ_WRITE, categories: ['all'], hasGeneration: true, hasStatus: true,
    selectableFields: [],
  },
  deployments: {
    name: 'deployments', singularName: 'deployment', kind: 'Deployment', group: 'apps', version: 'v1', namespaced: true,
    shortNames: ['deploy'], verbs: READ_WRITE, categories: ['all'], hasGeneration: true, hasStatus: true,
    selectableFields: [],
  },
  configmaps: {
    name: 'configmaps', singularName: 'configmap', kind: 'ConfigMap', group: '', version: 'v1', namespaced: true,
    shortNames: ['cm'], verbs: READ_WRITE, hasGeneration: false, hasStatus: false, selectableFields: [],
  },
  replicasets: {
    name: 'replicasets', singularName: 'replicaset', kind: 'ReplicaSet', group: 'apps', version: 'v1', namespaced: true,
    shortNames: ['rs'], verbs: READ_WRITE, categories: ['all'], hasGeneration: true, hasStatus: true,
    selectableFields: [],
  },
};

export function apiVersionOf(info: ResourceInfo): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

/** The resource as error messages name it: `pods`, `deployments.apps`, `poddisruptionbudgets.policy`. */
export function qualifiedName(info: ResourceInfo): string {
  return info.group === '' ? info.name : `${info.name}.${info.group}`;
}

export function isResourceName(value: string): value is ResourceName {
  return Object.hasOwn(RESOURCES, value);
}
