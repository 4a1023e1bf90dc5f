import { qualifiedName, type ResourceInfo } from './resources.js';
import type { Status, StatusCause } from './types.js';

/**
 * A failure of the simulated API server, carrying the `Status` object a real API server
 * would send (same reason, code, message wording and details), so that client code reading
 * `body.reason` or `body.details.causes` behaves as it would against EKS.
 */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';

  constructor(
    readonly status: Status,
    options?: ErrorOptions,
  ) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`, options);
  }

  get code(): number {
    return this.status.code;
  }
}

export function failure(code: number, reason: string, message: string, details?: Status['details']): KubeApiError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return new KubeApiError(status);
}

export function success(code: number, details?: Status['details']): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
  if (details) status.details = details;
  return status;
}

function detailsOf(info: ResourceInfo, name: string): NonNullable<Status['details']> {
  return info.group === '' ? { name, kind: info.name } : { name, group: info.group, kind: info.name };
}

export function notFound(info: ResourceInfo, name: string): KubeApiError {
  return failure(404, 'NotFound', `${qualifiedName(info)} "${name}" not found`, detailsOf(info, name));
}

export function alreadyExists(info: ResourceInfo, name: string): KubeApiError {
  return failure(409, 'AlreadyExists', `${qualifiedName(info)} "${name}" already exists`, detailsOf(info, name));
}

export function conflict(info: ResourceInfo, name: string, why: string): KubeApiError {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(info)} "${name}": ${why}`, detailsOf(info, name));
}

export const STALE_OBJECT = 'the object has been modified; please apply your changes to the latest version and try again';

export function invalid(info: ResourceInfo, name: string, causes: StatusCause[]): KubeApiError {
  const summary = causes.map((c) => `${c.field ?? ''}: ${c.message ?? ''}`).join(', ');
  const group = info.group === '' ? {} : { group: info.group };
  return failure(422, 'Invalid', `${info.kind} "${name}" is invalid: ${summary}`, { name, ...group, kind: info.kind, causes });
}

export function badRequest(message: string): KubeApiError {
  return failure(400, 'BadRequest', message);
}

export function internalError(message: string): KubeApiError {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function unauthorized(): KubeApiError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(info: ResourceInfo, name: string, why: string): KubeApiError {
  return failure(403, 'Forbidden', `${qualifiedName(info)} "${name}" is forbidden: ${why}`, detailsOf(info, name));
}

export function methodNotAllowed(): KubeApiError {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function pathNotFound(): KubeApiError {
  return failure(404, 'NotFound', 'the server could not find the requested resource');
}

export function gone(message: string): KubeApiError {
  return failure(410, 'Expired', message);
}
