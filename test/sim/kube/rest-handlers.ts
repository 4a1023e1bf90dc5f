import { badRequest, failure, methodNotAllowed, pathNotFound } from './errors.js';
import { evictPod } from './eviction.js';
import { PATCH_CONTENT_TYPES } from './patch.js';
import { apiVersionOf, type ResourceInfo } from './resources.js';
import type { KubeStore, ListOptions } from './store.js';
import { toTable, type IncludeObject } from './tables.js';
import type { DeleteOptions, Eviction, KubeObject, ResourceTypes } from './types.js';

/**
 * The REST verbs of one resource request, answered from the store. Pure request → reply:
 * the HTTP server parses, authenticates and writes; everything Kubernetes-specific happens
 * here or below.
 */

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRequest {
  method: string;
  info: ResourceInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
  query: URLSearchParams;
  /** Parsed JSON body, undefined when there is none. */
  body: unknown;
  contentType: string;
  /** The client asked for a meta.k8s.io/v1 Table (kubectl get). */
  table: boolean;
}

export interface Reply {
  status: number;
  body: unknown;
}

export function verbOf(method: string, name: string | undefined, query: URLSearchParams): Verb | undefined {
  const watch = query.get('watch');
  switch (method) {
    case 'GET':
      if (!name) return watch === 'true' || watch === '1' ? 'watch' : 'list';
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return name ? 'update' : undefined;
    case 'PATCH':
      return name ? 'patch' : undefined;
    case 'DELETE':
      return name ? 'delete' : 'deletecollection';
    default:
      return undefined;
  }
}

export function listOptions(request: Pick<ResourceRequest, 'namespace' | 'query'>): ListOptions {
  const options: ListOptions = {};
  if (request.namespace) options.namespace = request.namespace;
  const labelSelector = request.query.get('labelSelector');
  const fieldSelector = request.query.get('fieldSelector');
  if (labelSelector) options.labelSelector = labelSelector;
  if (fieldSelector) options.fieldSelector = fieldSelector;
  return options;
}

export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

function asObject(body: unknown, what: string): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`the body of the request was not a ${what} object`);
  const object = body as KubeObject;
  object.metadata ??= {};
  return object;
}

/** Optional DeleteOptions from the body, overridden by query parameters, as the API server merges them. */
function deleteOptionsOf(request: ResourceRequest): DeleteOptions {
  const options: DeleteOptions = typeof request.body === 'object' && request.body !== null ? { ...(request.body as DeleteOptions) } : {};
  const grace = request.query.get('gracePeriodSeconds');
  if (grace !== null) options.gracePeriodSeconds = Number(grace);
  const propagation = request.query.get('propagationPolicy');
  if (propagation) options.propagationPolicy = propagation as DeleteOptions['propagationPolicy'];
  return options;
}

function rejectDryRun(request: ResourceRequest): void {
  if (request.query.get('dryRun') || (Array.isArray((request.body as DeleteOptions | undefined)?.dryRun) && (request.body as DeleteOptions).dryRun!.length > 0)) {
    throw badRequest('dryRun is not supported by the sandbox API server except for evictions');
  }
}

export function handleResource(store: KubeStore, request: ResourceRequest): Reply {
  const { info, namespace, name, subresource, query } = request;
  const verb = verbOf(request.method, name, query);
  if (!verb || verb === 'watch') throw methodNotAllowed();
  const resource = info.name;

  if (subresource === 'eviction') {
    if (resource !== 'pods' || verb !== 'create') throw methodNotAllowed();
    const eviction = asObject(request.body ?? {}, 'Eviction') as unknown as Eviction;
    if (query.get('dryRun') === 'All') eviction.deleteOptions = { ...eviction.deleteOptions, dryRun: ['All'] };
    return { status: 201, body: evictPod(store, namespace!, name!, eviction) };
  }
  if (subresource !== undefined && subresource !== 'status') throw pathNotFound();
  if (subresource === 'status' && !['get', 'update', 'patch'].includes(verb)) throw methodNotAllowed();

  switch (verb) {
    case 'get': {
      const object = store.require(resource, namespace, name!);
      if (request.table) return { status: 200, body: toTable(info, [object], { now: store.clock.now(), resourceVersion: object.metadata.resourceVersion!, include: includeObjectOf(query) }) };
      return { status: 200, body: object };
    }
    case 'list': {
      const items = store.list(resource, listOptions(request));
      const resourceVersion = store.resourceVersion;
      if (request.table) return { status: 200, body: toTable(info, items, { now: store.clock.now(), resourceVersion, include: includeObjectOf(query) }) };
      return { status: 200, body: { kind: `${info.kind}List`, apiVersion: apiVersionOf(info), metadata: { resourceVersion }, items } };
    }
    case 'create': {
      if (name !== undefined) throw methodNotAllowed();
      rejectDryRun(request);
      const object = asObject(request.body, info.kind);
      if (info.namespaced) {
        if (object.metadata.namespace && object.metadata.namespace !== namespace) {
          throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
        }
        if (!namespace) throw pathNotFound();
        object.metadata.namespace = namespace;
      }
      return { status: 201, body: store.create(resource, object as ResourceTypes[typeof resource]) };
    }
    case 'update': {
      rejectDryRun(request);
      const object = asObject(request.body, info.kind);
      if (object.metadata.name && object.metadata.name !== name) {
        throw badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
      }
      object.metadata.name = name!;
      if (info.namespaced) object.metadata.namespace = namespace!;
      const options = subresource === 'status' ? { statusOnly: true } : { preserveStatus: true };
      return { status: 200, body: store.replace(resource, object as ResourceTypes[typeof resource], options) };
    }
    case 'patch': {
      rejectDryRun(request);
      const type = PATCH_CONTENT_TYPES[request.contentType];
      if (!type) {
        throw failure(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
        );
      }
      if (request.body === undefined) throw badRequest('the body of the request was empty');
      const options = subresource === 'status' ? { statusOnly: true } : { preserveStatus: true };
      return { status: 200, body: store.patch(resource, namespace, name!, request.body, type, options) };
    }
    case 'delete': {
      rejectDryRun(request);
      return { status: 200, body: store.delete(resource, namespace, name!, deleteOptionsOf(request)) };
    }
    case 'deletecollection': {
      rejectDryRun(request);
      const options = deleteOptionsOf(request);
      const items = store.list(resource, listOptions(request)).map((object) => store.delete(resource, object.metadata.namespace, object.metadata.name!, options));
      return { status: 200, body: { kind: `${info.kind}List`, apiVersion: apiVersionOf(info), metadata: { resourceVersion: store.resourceVersion }, items } };
    }
  }
}
