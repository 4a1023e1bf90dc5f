import { badRequest, failure } from './errors.js';

/**
 * The three patch formats of PATCH requests:
 * - JSON merge patch (RFC 7386), `application/merge-patch+json`;
 * - strategic merge patch, `application/strategic-merge-patch+json`: a merge patch in which
 *   the lists Kubernetes declares with a patch merge key are merged element by element
 *   (conditions by type, containers by name, …) and lists without one are replaced, as for
 *   `spec.taints` on a Node; `$patch`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…`
 *   directives are understood well enough for what kubectl sends;
 * - JSON patch (RFC 6902), `application/json-patch+json`.
 */
export type PatchType = 'merge' | 'strategic' | 'json';

export const PATCH_CONTENT_TYPES: Readonly<Record<string, PatchType>> = {
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/json-patch+json': 'json',
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value) as Json;
  }
  return result;
}

/**
 * Lists with a patch strategy of "merge", by their path with list indices dropped
 * (`spec.template.spec.containers` for the containers of a Deployment). A key of `''`
 * marks a list of primitives merged as a set (finalizers).
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  'metadata.ownerReferences': 'uid',
  'metadata.finalizers': '',
  'status.conditions': 'type',
  'status.addresses': 'type',
  'status.images': '',
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'spec.ephemeralContainers': 'name',
  'spec.volumes': 'name',
  'spec.imagePullSecrets': 'name',
  'spec.containers.env': 'name',
  'spec.containers.ports': 'containerPort',
  'spec.containers.volumeMounts': 'mountPath',
  'spec.template.spec.containers': 'name',
  'spec.template.spec.initContainers': 'name',
  'spec.template.spec.volumes': 'name',
  'spec.template.spec.containers.env': 'name',
  'spec.template.spec.containers.ports': 'containerPort',
  'spec.template.spec.containers.volumeMounts': 'mountPath',
  'spec.podCIDRs': '',
};

export function applyStrategicMergePatch(target: unknown, patch: unknown, path = ''): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch['$patch'] === 'replace') {
    const { $patch: _directive, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch['$patch'] === 'delete') return undefined;
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[field] = current.filter((item) => !value.some((v) => deepEqual(v, item)));
      }
      continue;
    }
    const childPath = path === '' ? key : `${path}.${key}`;
    if (value === null) {
      delete result[key];
    } else if (Array.isArray(value) && Object.hasOwn(MERGE_KEYS, childPath)) {
      result[key] = mergeList(result[key], value, MERGE_KEYS[childPath]!, childPath) as Json;
    } else if (Array.isArray(value)) {
      result[key] = stripDirectives(value) as Json;
    } else {
      const merged = applyStrategicMergePatch(result[key], value, childPath);
      if (merged === undefined) delete result[key];
      else result[key] = merged as Json;
    }
  }
  return result;
}

function mergeList(target: unknown, patch: Json[], mergeKey: string, path: string): Json[] {
  const current: Json[] = Array.isArray(target) ? clone(target) : [];
  if (patch.some((item) => isObject(item) && item['$patch'] === 'replace')) {
    return patch.filter((item) => !(isObject(item) && item['$patch'] === 'replace')).map((item) => stripDirectives(item));
  }
  if (mergeKey === '') {
    // a set of primitives: union, keeping the current order
    for (const item of patch) if (!current.some((c) => deepEqual(c, item))) current.push(item);
    return current;
  }
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = current.findIndex((c) => isObject(c) && deepEqual(c[mergeKey], item[mergeKey]));
    if (item['$patch'] === 'delete') {
      if (index >= 0) current.splice(index, 1);
    } else if (index >= 0) {
      current[index] = applyStrategicMergePatch(current[index], item, path) as Json;
    } else {
      current.push(stripDirectives(item));
    }
  }
  return current;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, child] of Object.entries(value)) if (!key.startsWith('$')) result[key] = stripDirectives(child);
  return result;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left).filter((k) => left[k] !== undefined);
  const otherKeys = Object.keys(right).filter((k) => right[k] !== undefined);
  return keys.length === otherKeys.length && keys.every((k) => deepEqual(left[k], right[k]));
}

interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

/** A failed JSON patch operation is a 422, as the API server reports it. */
function patchFailed(message: string): Error {
  return failure(422, 'Invalid', message);
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchFailed(`invalid JSON pointer: "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = JsonObject | Json[];

/** Walks to the parent of the pointer's last token. */
function locate(document: Json, tokens: string[], pointer: string): { parent: Container; key: string } {
  let node: Json = document;
  for (const token of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (next === undefined || next === null || typeof next !== 'object') {
      throw patchFailed(`doc is missing path: "${pointer}": missing value`);
    }
    node = next;
  }
  if (node === null || typeof node !== 'object') throw patchFailed(`doc is missing path: "${pointer}"`);
  return { parent: node, key: tokens[tokens.length - 1]! };
}

function read(document: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return document;
  const { parent, key } = locate(document, tokens, pointer);
  const value = Array.isArray(parent) ? parent[Number(key)] : parent[key];
  if (value === undefined) throw patchFailed(`doc is missing path: "${pointer}": missing value`);
  return value;
}

function arrayIndex(parent: Json[], key: string, pointer: string, forInsert: boolean): number {
  if (forInsert && key === '-') return parent.length;
  const index = Number(key);
  const limit = forInsert ? parent.length : parent.length - 1;
  if (!/^(0|[1-9][0-9]*)$/.test(key) || index > limit) throw patchFailed(`unable to access invalid index: ${key} in "${pointer}"`);
  return index;
}

function add(document: Json, pointer: string, value: Json): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(document, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, true), 0, value);
  else parent[key] = value;
  return document;
}

function remove(document: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  const { parent, key } = locate(document, tokens, pointer);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(parent, key, pointer, false), 1);
  } else {
    if (!Object.hasOwn(parent, key)) throw patchFailed(`unable to remove nonexistent key: ${key}: missing value`);
    delete parent[key];
  }
  return document;
}

export function applyJsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let document = clone(target) as Json;
  for (const raw of operations as JsonPatchOperation[]) {
    if (!isObject(raw) || typeof raw.path !== 'string') throw badRequest('invalid JSON patch operation');
    const value = raw.value as Json;
    switch (raw.op) {
      case 'add':
        document = add(document, raw.path, clone(value));
        break;
      case 'remove':
        document = remove(document, raw.path);
        break;
      case 'replace':
        read(document, raw.path); // replace requires the target to exist
        document = raw.path === '' ? clone(value) : add(remove(document, raw.path), raw.path, clone(value));
        break;
      case 'move': {
        const moved = read(document, raw.from ?? '');
        document = add(remove(document, raw.from ?? ''), raw.path, moved);
        break;
      }
      case 'copy':
        document = add(document, raw.path, clone(read(document, raw.from ?? '')));
        break;
      case 'test':
        if (!deepEqual(read(document, raw.path), value)) throw patchFailed(`testing value ${raw.path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${String((raw as { op: unknown }).op)}`);
    }
  }
  return document;
}

export function applyPatch(target: unknown, patch: unknown, type: PatchType): unknown {
  switch (type) {
    case 'merge':
      return applyMergePatch(target, patch);
    case 'strategic':
      return applyStrategicMergePatch(target, patch);
    case 'json':
      return applyJsonPatch(target, patch);
  }
}
