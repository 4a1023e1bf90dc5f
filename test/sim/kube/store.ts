import type { Timer, VirtualClock } from '../clock.js';
import { badRequest, conflict, invalid, notFound, alreadyExists, STALE_OBJECT } from './errors.js';
import { applyPatch, deepEqual, type PatchType } from './patch.js';
import { computePdbStatus, disruptionAllowedCondition, podsCoveredBy, type ScaleLookup } from './pdb-status.js';
import { apiVersionOf, RESOURCES, type ResourceInfo } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { rfc3339 } from './timestamps.js';
import {
  controllerOf,
  isPodFinished,
  type DeleteOptions,
  type KubeObject,
  type Pod,
  type PodDisruptionBudget,
  type PodDisruptionBudgetStatus,
  type ResourceName,
  type ResourceTypes,
} from './types.js';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent<R extends ResourceName = ResourceName> {
  type: StoreEventType;
  resource: R;
  /** The object after the change (for DELETED, as it was removed). Shared: do not mutate. */
  object: ResourceTypes[R];
  /** The object before the change, for MODIFIED and DELETED. */
  oldObject?: ResourceTypes[R];
}

export type StoreListener = (event: StoreEvent) => void;

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WriteOptions {
  /** A write through the main resource of an object with a status subresource: status is kept. */
  preserveStatus?: boolean;
  /** A write through the status subresource: only status changes. */
  statusOnly?: boolean;
}

export interface KubeStoreOptions {
  /** Seeds uids and generated name suffixes, so that a sandbox run is reproducible. */
  seed?: number;
  /** How many past changes a watch may resume from. */
  historyLimit?: number;
}

/** The namespaces every cluster starts with. */
const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Resources whose changes can move a PodDisruptionBudget's numbers. */
const PDB_INPUTS: ReadonlySet<ResourceName> = new Set(['pods', 'poddisruptionbudgets', 'replicasets', 'deployments']);

/** The alphabet of generated names (k8s.io/apimachinery/pkg/util/rand), without vowels. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Stored objects are never changed in place (a write stores a new copy): frozen, so a reader that tries fails loudly. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function keyOf(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${namespace ?? ''}/${name}` : name;
}

/** Reads a dotted path for field selectors; absent fields read as "". */
function fieldValue(object: KubeObject, path: string): string {
  let node: unknown = object;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null) return '';
    node = (node as Record<string, unknown>)[part];
  }
  return node === undefined || node === null ? '' : String(node);
}

/**
 * The simulated cluster's etcd and API machinery in one: typed objects by resource, a global
 * resourceVersion, uids, generations and timestamps from the virtual clock, selectors,
 * patches, optimistic concurrency, graceful pod deletion and PodDisruptionBudget status.
 *
 * Methods are synchronous and exchange deep copies. Change events are delivered after each
 * write, in resourceVersion order; a listener that writes from inside its callback has its
 * own events queued behind the current one rather than delivered re-entrantly.
 */
export class KubeStore {
  private revision = 0;
  private readonly objects = new Map<ResourceName, Map<string, KubeObject>>();
  private readonly listeners = new Set<StoreListener>();
  private readonly queue: StoreEvent[] = [];
  private emitting = false;
  private readonly history: { revision: number; event: StoreEvent }[] = [];
  private readonly historyLimit: number;
  private readonly podRemovals = new Map<string, Timer>();
  private readonly pdbRechecks = new Map<string, Timer>();
  private randomState: number;

  constructor(
    readonly clock: VirtualClock,
    options: KubeStoreOptions = {},
  ) {
    this.randomState = options.seed ?? 0x6b756265;
    this.historyLimit = options.historyLimit ?? 2_000;
    for (const name of Object.keys(RESOURCES) as ResourceName[]) this.objects.set(name, new Map());
    for (const name of SYSTEM_NAMESPACES) this.create('namespaces', { metadata: { name } });
  }

  /** The resourceVersion of the latest change, as lists report it. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  on(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get<R extends ResourceName>(resource: R, namespace: string | undefined, name: string): ResourceTypes[R] | undefined {
    const found = this.bucket(resource).get(keyOf(RESOURCES[resource], namespace, name));
    return found ? (clone(found) as ResourceTypes[R]) : undefined;
  }

  /** Like get, but the stored object itself, frozen (see view): for the simulator's own readers. */
  peek<R extends ResourceName>(resource: R, namespace: string | undefined, name: string): ResourceTypes[R] | undefined {
    return this.bucket(resource).get(keyOf(RESOURCES[resource], namespace, name)) as ResourceTypes[R] | undefined;
  }

  /** Like get, but a missing object is the API's NotFound error. */
  require<R extends ResourceName>(resource: R, namespace: string | undefined, name: string): ResourceTypes[R] {
    const found = this.get(resource, namespace, name);
    if (!found) throw notFound(RESOURCES[resource], name);
    return found;
  }

  /** Objects in key order (namespace, then name), as etcd returns them. */
  list<R extends ResourceName>(resource: R, options: ListOptions = {}): ResourceTypes[R][] {
    return this.view(resource, options).map((object) => clone(object));
  }

  /**
   * Like list, but the stored objects themselves, frozen: for the simulator's own controllers,
   * which read the whole cluster on every pass (a copy of every pod each time made a large
   * cluster slow). Writing to one throws.
   */
  view<R extends ResourceName>(resource: R, options: ListOptions = {}): ResourceTypes[R][] {
    const matches = this.matcher(resource, options);
    return [...this.bucket(resource).entries()]
      .filter(([, object]) => matches(object))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) // bytewise, like etcd keys
      .map(([, object]) => object as ResourceTypes[R]);
  }

  /** A predicate for list and watch filters; throws BadRequest for a malformed selector. */
  matcher(resource: ResourceName, options: ListOptions): (object: KubeObject) => boolean {
    const info = RESOURCES[resource];
    const labels = parseLabelSelector(options.labelSelector);
    const fields = parseFieldSelector(options.fieldSelector);
    const allowed = new Set(['metadata.name', 'metadata.namespace', ...info.selectableFields]);
    for (const requirement of fields) {
      if (!allowed.has(requirement.field)) throw badRequest(`field label not supported: ${requirement.field}`);
    }
    return (object) => {
      if (info.namespaced && options.namespace && object.metadata.namespace !== options.namespace) return false;
      if (!matchesLabels(labels, object.metadata.labels)) return false;
      const values: Record<string, string> = {};
      for (const requirement of fields) values[requirement.field] = fieldValue(object, requirement.field);
      return matchesFields(fields, values);
    };
  }

  create<R extends ResourceName>(resource: R, input: Omit<ResourceTypes[R], 'metadata'> & { metadata: KubeObject['metadata'] }): ResourceTypes[R] {
    const info = RESOURCES[resource];
    const object = clone(input) as KubeObject;
    object.metadata ??= {};
    const meta = object.metadata;
    if (info.namespaced) {
      meta.namespace ||= 'default';
      if (!this.bucket('namespaces').has(meta.namespace)) throw notFound(RESOURCES.namespaces, meta.namespace);
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) {
      do meta.name = meta.generateName + this.randomSuffix();
      while (this.bucket(resource).has(keyOf(info, meta.namespace, meta.name)));
    }
    if (!meta.name) throw invalid(info, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    if (this.bucket(resource).has(keyOf(info, meta.namespace, meta.name))) throw alreadyExists(info, meta.name);

    object.apiVersion = apiVersionOf(info);
    object.kind = info.kind;
    meta.uid = this.uuid();
    meta.creationTimestamp = rfc3339(this.clock.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (info.hasGeneration) meta.generation = 1;
    else delete meta.generation;
    applyDefaults(resource, object);

    this.commit(resource, 'ADDED', object);
    return this.require(resource, meta.namespace, meta.name);
  }

  /**
   * PUT semantics: the whole object is replaced. A resourceVersion in the body must be the
   * current one (optimistic concurrency); identity, timestamps and generation are the
   * server's, not the client's.
   */
  replace<R extends ResourceName>(resource: R, input: ResourceTypes[R], options: WriteOptions = {}): ResourceTypes[R] {
    const info = RESOURCES[resource];
    const name = input.metadata?.name;
    if (!name) throw invalid(info, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name is required' }]);
    const current = this.stored(resource, info.namespaced ? input.metadata.namespace || 'default' : undefined, name);
    return this.write(resource, current, clone(input), options);
  }

  patch<R extends ResourceName>(
    resource: R,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType,
    options: WriteOptions = {},
  ): ResourceTypes[R] {
    const current = this.stored(resource, namespace, name);
    const patched = applyPatch(current, patch, type);
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) throw badRequest('the patch did not produce an object');
    const next = patched as KubeObject;
    next.metadata = { ...(typeof next.metadata === 'object' && next.metadata !== null ? next.metadata : {}), name, namespace: current.metadata.namespace };
    return this.write(resource, current, next as ResourceTypes[R], options);
  }

  /** Read-modify-write for the simulator's own actors (kubelet, controllers): no concurrency check. */
  update<R extends ResourceName>(
    resource: R,
    namespace: string | undefined,
    name: string,
    mutate: (object: ResourceTypes[R]) => void,
  ): ResourceTypes[R] {
    const current = this.stored(resource, namespace, name);
    const next = clone(current) as ResourceTypes[R];
    mutate(next);
    delete next.metadata.resourceVersion;
    return this.write(resource, current, next, {});
  }

  /**
   * Deletes as the API server does. A pod bound to a node and still running is deleted
   * gracefully: it gets a deletionTimestamp (now + grace) and disappears when the virtual
   * clock reaches it. A second delete may only shorten the grace period. Pods that never
   * ran on a node, finished pods and a grace period of 0 go at once.
   */
  delete<R extends ResourceName>(resource: R, namespace: string | undefined, name: string, options: DeleteOptions = {}): ResourceTypes[R] {
    const info = RESOURCES[resource];
    const current = this.stored(resource, namespace, name);
    const { uid, resourceVersion } = options.preconditions ?? {};
    if (uid && uid !== current.metadata.uid) {
      throw conflict(info, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(info, name, `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
    }
    if (resource === 'pods') return this.deletePod(current as Pod, options) as ResourceTypes[R];
    if (resource === 'namespaces') {
      // the namespace controller empties a namespace before it goes; here that is instant
      for (const r of Object.keys(RESOURCES) as ResourceName[]) {
        if (!RESOURCES[r].namespaced) continue;
        for (const object of this.list(r, { namespace: name })) {
          const still = this.bucket(r).get(keyOf(RESOURCES[r], name, object.metadata.name!));
          if (still) this.remove(r, still);
        }
      }
    }
    return this.remove(resource, current) as ResourceTypes[R];
  }

  /** Past changes after `resourceVersion`, or undefined once they have left the history. */
  changesSince(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion >= this.revision) return [];
    const first = this.history[0];
    if (!first || first.revision > resourceVersion + 1) return undefined;
    return this.history.filter((h) => h.revision > resourceVersion).map((h) => h.event);
  }

  /** Five characters as the API server appends to a generateName. */
  randomSuffix(length = 5): string {
    let out = '';
    for (let i = 0; i < length; i++) out += NAME_ALPHABET[Math.floor(this.random() * NAME_ALPHABET.length)];
    return out;
  }

  /** A version-4 UUID drawn from the store's seeded generator. */
  uuid(): string {
    const bytes = Array.from({ length: 16 }, () => Math.floor(this.random() * 256));
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // ---- internals ----

  /** mulberry32: small, seeded, good enough for names. */
  private random(): number {
    this.randomState = (this.randomState + 0x6d2b79f5) | 0;
    let t = this.randomState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  private bucket(resource: ResourceName): Map<string, KubeObject> {
    return this.objects.get(resource)!;
  }

  private stored<R extends ResourceName>(resource: R, namespace: string | undefined, name: string): ResourceTypes[R] {
    const found = this.bucket(resource).get(keyOf(RESOURCES[resource], namespace, name));
    if (!found) throw notFound(RESOURCES[resource], name);
    return clone(found) as ResourceTypes[R];
  }

  private write<R extends ResourceName>(resource: R, current: ResourceTypes[R], input: ResourceTypes[R], options: WriteOptions): ResourceTypes[R] {
    const info = RESOURCES[resource];
    const name = current.metadata.name!;
    const meta = input.metadata ?? {};
    if (meta.resourceVersion && meta.resourceVersion !== current.metadata.resourceVersion) throw conflict(info, name, STALE_OBJECT);
    if (meta.uid && meta.uid !== current.metadata.uid) {
      throw conflict(info, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${current.metadata.uid}`);
    }

    let next: KubeObject;
    if (options.statusOnly) {
      next = { ...clone(current), status: input.status };
    } else {
      next = input;
      if (options.preserveStatus && info.hasStatus) {
        if (current.status === undefined) delete next.status;
        else next.status = clone(current.status);
      }
    }
    next.apiVersion = apiVersionOf(info);
    next.kind = info.kind;
    next.metadata = {
      ...next.metadata,
      name,
      uid: current.metadata.uid!,
      creationTimestamp: current.metadata.creationTimestamp!,
    };
    if (info.namespaced) next.metadata.namespace = current.metadata.namespace!;
    else delete next.metadata.namespace;
    for (const field of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (current.metadata[field] === undefined) delete next.metadata[field];
      else next.metadata[field] = current.metadata[field] as never;
    }
    if (info.hasGeneration && !deepEqual(next['spec'], current['spec'])) next.metadata.generation = (current.metadata.generation ?? 0) + 1;
    next.metadata.resourceVersion = current.metadata.resourceVersion!;

    // an update that changes nothing is not a change: no new resourceVersion, no event
    if (deepEqual(next, current)) return clone(current);
    // the last finalizer of a pod whose deletion is over: the pod goes
    if (resource === 'pods' && current.metadata.deletionGracePeriodSeconds === 0 && current.metadata.deletionTimestamp !== undefined && !next.metadata.finalizers?.length) {
      return this.remove(resource, current) as ResourceTypes[R];
    }
    this.commit(resource, 'MODIFIED', next, current);
    return this.require(resource, next.metadata.namespace, name);
  }

  private deletePod(pod: Pod, options: DeleteOptions): Pod {
    const meta = pod.metadata;
    let grace = options.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    if (!pod.spec.nodeName || isPodFinished(pod)) grace = 0;
    if (grace < 0) grace = 1;

    if (meta.deletionTimestamp !== undefined) {
      const previousGrace = meta.deletionGracePeriodSeconds ?? 0;
      if (previousGrace === 0 || grace === 0) return this.finishPod(pod);
      if (grace >= previousGrace) return pod; // only a shorter grace period may be set
      const requestedAt = Date.parse(meta.deletionTimestamp) - previousGrace * 1000;
      return this.startGracefulDeletion(pod, requestedAt, grace);
    }
    if (grace === 0) return this.finishPod(pod);
    return this.startGracefulDeletion(pod, this.clock.now(), grace);
  }

  private startGracefulDeletion(pod: Pod, requestedAt: number, grace: number): Pod {
    const due = requestedAt + grace * 1000;
    if (due <= this.clock.now()) return this.finishPod(pod);
    const next = clone(pod);
    next.metadata.deletionTimestamp = rfc3339(due);
    next.metadata.deletionGracePeriodSeconds = grace;
    this.commit('pods', 'MODIFIED', next, pod);
    const uid = pod.metadata.uid!;
    this.podRemovals.get(uid)?.cancel();
    // the kubelet stops the containers and deletes the pod when the grace period is over
    this.podRemovals.set(
      uid,
      this.clock.at(due, () => {
        this.podRemovals.delete(uid);
        const still = this.bucket('pods').get(keyOf(RESOURCES.pods, pod.metadata.namespace, pod.metadata.name!));
        if (still?.metadata.uid === uid) this.finishPod(still as Pod);
      }),
    );
    return this.require('pods', pod.metadata.namespace, pod.metadata.name!);
  }

  /**
   * The end of a pod's deletion: it goes, unless finalizers hold it — then it stays, its
   * containers stopped (grace 0), Terminating until the last finalizer is removed (write()).
   */
  private finishPod(pod: Pod): Pod {
    if (!pod.metadata.finalizers?.length) return this.remove('pods', pod) as Pod;
    if (pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionGracePeriodSeconds === 0) return clone(pod);
    const next = clone(pod);
    next.metadata.deletionTimestamp ??= rfc3339(this.clock.now());
    next.metadata.deletionGracePeriodSeconds = 0;
    this.commit('pods', 'MODIFIED', next, pod);
    return this.require('pods', pod.metadata.namespace, pod.metadata.name!);
  }

  private remove(resource: ResourceName, object: KubeObject): KubeObject {
    const removed = clone(object);
    const uid = removed.metadata.uid!;
    this.podRemovals.get(uid)?.cancel();
    this.podRemovals.delete(uid);
    this.commit(resource, 'DELETED', removed, object);
    return clone(removed);
  }

  /** Stores the change under a new resourceVersion, then tells the world about it. */
  private commit(resource: ResourceName, type: StoreEventType, object: KubeObject, oldObject?: KubeObject, refresh = true): void {
    const info = RESOURCES[resource];
    this.revision++;
    object.metadata.resourceVersion = String(this.revision);
    const key = keyOf(info, object.metadata.namespace, object.metadata.name!);
    if (type === 'DELETED') this.bucket(resource).delete(key);
    else this.bucket(resource).set(key, deepFreeze(clone(object)));

    const event = { type, resource, object: clone(object), ...(oldObject ? { oldObject: clone(oldObject) } : {}) } as StoreEvent;
    this.history.push({ revision: this.revision, event });
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    this.queue.push(event);

    if (refresh && PDB_INPUTS.has(resource) && object.metadata.namespace) {
      // a pod's change matters only to the budgets that select it (as it was, or as it is)
      const touched = resource === 'pods' ? [object, oldObject].filter((o): o is KubeObject => o !== undefined) as Pod[] : undefined;
      this.refreshPdbs(object.metadata.namespace, touched);
    }
    this.deliver();
  }

  private deliver(): void {
    if (this.emitting) return;
    this.emitting = true;
    try {
      for (let event = this.queue.shift(); event; event = this.queue.shift()) {
        for (const listener of [...this.listeners]) listener(event);
      }
    } finally {
      this.emitting = false;
    }
  }

  /** The disruption controller, run synchronously after every change that can matter. */
  private refreshPdbs(namespace: string, touched?: readonly Pod[]): void {
    const all = this.view('poddisruptionbudgets', { namespace });
    const pdbs = touched ? all.filter((pdb) => podsCoveredBy(pdb, touched).length > 0) : all;
    if (pdbs.length === 0) return;
    // the stored pods themselves, read only: a copy of every pod at every write made a large namespace quadratic
    const pods = [...this.bucket('pods').values()].filter((pod) => pod.metadata.namespace === namespace) as Pod[];
    for (const pdb of pdbs) {
      const next = this.pdbStatus(pdb, pods);
      if (deepEqual(next, pdb.status)) continue;
      const stored = clone(pdb);
      stored.status = next;
      this.commit('poddisruptionbudgets', 'MODIFIED', stored, pdb, false);
    }
  }

  private pdbStatus(pdb: PodDisruptionBudget, pods: Pod[]): PodDisruptionBudgetStatus {
    const nowIso = rfc3339(this.clock.now());
    const computed = computePdbStatus(pdb, pods, this.scaleOf, this.clock.now());
    if (!computed.ok) {
      // failSafe: nothing may be disrupted while the budget cannot be computed
      const previous = pdb.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
      return {
        ...previous,
        disruptionsAllowed: 0,
        conditions: disruptionAllowedCondition(previous.conditions, false, 'SyncFailed', computed.message, previous.observedGeneration ?? 0, nowIso),
      };
    }
    const { status } = computed;
    if (computed.recheckAt !== undefined) this.scheduleRecheck(pdb, computed.recheckAt);
    status.conditions = disruptionAllowedCondition(
      pdb.status?.conditions,
      status.disruptionsAllowed > 0,
      status.disruptionsAllowed > 0 ? 'SufficientPods' : 'InsufficientPods',
      '',
      status.observedGeneration ?? 0,
      nowIso,
    );
    return status;
  }

  /** An eviction that never turned into a deletion stops holding its pod out after a while. */
  private scheduleRecheck(pdb: PodDisruptionBudget, at: number): void {
    const key = `${pdb.metadata.uid}@${at}`;
    if (this.pdbRechecks.has(key)) return;
    const namespace = pdb.metadata.namespace!;
    this.pdbRechecks.set(
      key,
      this.clock.at(at + 1, () => {
        this.pdbRechecks.delete(key);
        this.refreshPdbs(namespace);
      }, { background: true }),
    );
  }

  private readonly scaleOf: ScaleLookup = (controller, namespace) => {
    if (controller.kind !== 'ReplicaSet') return undefined;
    const replicaSet = this.bucket('replicasets').get(keyOf(RESOURCES.replicasets, namespace, controller.name)) as ResourceTypes['replicasets'] | undefined;
    if (!replicaSet || replicaSet.metadata.uid !== controller.uid) return undefined;
    const owner = controllerOf(replicaSet);
    if (owner?.kind === 'Deployment') {
      const deployment = this.bucket('deployments').get(keyOf(RESOURCES.deployments, namespace, owner.name)) as ResourceTypes['deployments'] | undefined;
      if (!deployment || deployment.metadata.uid !== owner.uid) return undefined;
      return { uid: deployment.metadata.uid, replicas: deployment.spec.replicas ?? 1 };
    }
    return { uid: replicaSet.metadata.uid, replicas: replicaSet.spec.replicas ?? 1 };
  };
}

/** What defaulting and admission add on create, so objects look as a real server returns them. */
function applyDefaults(resource: ResourceName, object: KubeObject): void {
  switch (resource) {
    case 'pods': {
      const pod = object as Pod;
      pod.spec ??= { containers: [] };
      pod.spec.terminationGracePeriodSeconds ??= 30;
      pod.spec.restartPolicy ??= 'Always';
      pod.spec.schedulerName ??= 'default-scheduler';
      pod.spec.serviceAccountName ??= 'default';
      pod.spec.priority ??= 0;
      // the DefaultTolerationSeconds admission plugin
      const tolerations = (pod.spec.tolerations ??= []);
      for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
        if (!tolerations.some((t) => t.key === key || (t.operator === 'Exists' && !t.key))) {
          tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
        }
      }
      pod.status ??= {};
      pod.status.phase ??= 'Pending';
      pod.status.qosClass ??= 'BestEffort';
      break;
    }
    case 'namespaces': {
      object.metadata.labels = { ...object.metadata.labels, 'kubernetes.io/metadata.name': object.metadata.name! };
      object['spec'] ??= { finalizers: ['kubernetes'] };
      object['status'] ??= { phase: 'Active' };
      break;
    }
    case 'poddisruptionbudgets':
      object['status'] = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
      break;
    case 'deployments':
    case 'replicasets': {
      const spec = object['spec'] as { replicas?: number } | undefined;
      if (spec) spec.replicas ??= 1;
      break;
    }
    default:
      break;
  }
}
