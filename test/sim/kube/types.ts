/**
 * The subset of the Kubernetes object model the simulated API server understands, as plain
 * JSON (timestamps are RFC 3339 strings, never Date objects). Every shape keeps an index
 * signature so fields the simulator does not know pass through untouched, as they would
 * through a real API server.
 */

export type Labels = Record<string, string>;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Labels;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [extra: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [extra: string]: unknown;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastHeartbeatTime?: string;
  lastProbeTime?: string | null;
  observedGeneration?: number;
  [extra: string]: unknown;
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: TaintEffect | '';
  tolerationSeconds?: number;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface Container {
  name: string;
  image?: string;
  [extra: string]: unknown;
}

export interface PodSpec {
  nodeName?: string;
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  tolerations?: Toleration[];
  nodeSelector?: Labels;
  restartPolicy?: string;
  schedulerName?: string;
  serviceAccountName?: string;
  hostNetwork?: boolean;
  priority?: number;
  [extra: string]: unknown;
}

export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  image?: string;
  started?: boolean;
  state?: Record<string, unknown>;
  [extra: string]: unknown;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface PodStatus {
  phase?: PodPhase;
  conditions?: Condition[];
  containerStatuses?: ContainerStatus[];
  reason?: string;
  message?: string;
  podIP?: string;
  hostIP?: string;
  startTime?: string;
  nominatedNodeName?: string;
  [extra: string]: unknown;
}

export interface Pod extends KubeObject {
  spec: PodSpec;
  status?: PodStatus;
}

export interface PodTemplateSpec {
  metadata?: { labels?: Labels; annotations?: Record<string, string> };
  spec: PodSpec;
}

export interface NodeSpec {
  unschedulable?: boolean;
  taints?: Taint[];
  providerID?: string;
  podCIDR?: string;
  [extra: string]: unknown;
}

export interface NodeStatus {
  conditions?: Condition[];
  addresses?: { type: string; address: string }[];
  nodeInfo?: { kubeletVersion?: string; osImage?: string; kernelVersion?: string; containerRuntimeVersion?: string; [extra: string]: unknown };
  capacity?: Record<string, string>;
  allocatable?: Record<string, string>;
  [extra: string]: unknown;
}

export interface KubeNode extends KubeObject {
  spec?: NodeSpec;
  status?: NodeStatus;
}

export interface Namespace extends KubeObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: 'Active' | 'Terminating' };
}

/** intstr.IntOrString: an absolute number or a percentage such as "25%". */
export type IntOrPercent = number | string;

export interface PodDisruptionBudgetStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions?: Condition[];
}

export interface PodDisruptionBudget extends KubeObject {
  spec: {
    minAvailable?: IntOrPercent;
    maxUnavailable?: IntOrPercent;
    selector?: LabelSelector | null;
    unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow';
  };
  status?: PodDisruptionBudgetStatus;
}

export interface ReplicaSet extends KubeObject {
  spec: { replicas?: number; selector: LabelSelector; template: PodTemplateSpec; [extra: string]: unknown };
  status?: { replicas: number; readyReplicas?: number; availableReplicas?: number; fullyLabeledReplicas?: number; observedGeneration?: number };
}

export interface Deployment extends KubeObject {
  spec: { replicas?: number; selector: LabelSelector; template: PodTemplateSpec; [extra: string]: unknown };
  status?: {
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    observedGeneration?: number;
    conditions?: Condition[];
  };
}

export interface DaemonSet extends KubeObject {
  spec: { selector: LabelSelector; template: PodTemplateSpec; [extra: string]: unknown };
  status?: {
    currentNumberScheduled: number;
    desiredNumberScheduled: number;
    numberMisscheduled: number;
    numberReady: number;
    numberAvailable?: number;
    updatedNumberScheduled?: number;
    observedGeneration?: number;
  };
}

export interface KubeEvent extends KubeObject {
  involvedObject?: { kind?: string; namespace?: string; name?: string; uid?: string; [extra: string]: unknown };
  reason?: string;
  message?: string;
  type?: string;
  [extra: string]: unknown;
}

/** v1 ConfigMap: string data (aws-auth keeps its mapRoles YAML in `data`). */
export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

/** The typed view of each resource the store holds. */
export interface ResourceTypes {
  nodes: KubeNode;
  pods: Pod;
  namespaces: Namespace;
  events: KubeEvent;
  poddisruptionbudgets: PodDisruptionBudget;
  daemonsets: DaemonSet;
  deployments: Deployment;
  replicasets: ReplicaSet;
  configmaps: ConfigMap;
}

export type ResourceName = keyof ResourceTypes;

/** metav1.DeleteOptions, as far as the simulator honours it. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  dryRun?: string[];
}

/** policy/v1 Eviction: the body of POST …/pods/{name}/eviction. */
export interface Eviction {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  deleteOptions?: DeleteOptions;
}

export interface StatusCause {
  /** metav1.StatusCause.Type is serialised as `reason` in JSON. */
  reason?: string;
  message?: string;
  field?: string;
}

/** metav1.Status: every error (and a few successes) the API server answers with. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

// ---- predicates shared by the store, the controllers and the tables ----

export function conditionOf(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return conditionOf(pod.status?.conditions, 'Ready')?.status === 'True';
}

export function isTerminating(object: KubeObject): boolean {
  return object.metadata.deletionTimestamp !== undefined;
}

export function isPodFinished(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** A pod that counts towards its controller: not finished and not on its way out. */
export function isPodActive(pod: Pod): boolean {
  return !isPodFinished(pod) && !isTerminating(pod);
}

export function isNodeReady(node: KubeNode): boolean {
  return conditionOf(node.status?.conditions, 'Ready')?.status === 'True';
}

export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller === true);
}
