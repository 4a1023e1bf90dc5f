/**
 * Filter and pagination semantics shared by the Describe* handlers.
 *
 * EC2 filters: every filter must match (AND), any of a filter's values may match (OR),
 * values may use `*` and `?` wildcards, and an unknown filter name is an error rather
 * than being ignored: a typo in code under test fails here as it would in AWS.
 */
import { ec2Error } from './errors';

export interface NameValuesFilter {
  Name?: string | undefined;
  Values?: string[] | undefined;
}

export interface KeyValueTag {
  Key?: string | undefined;
  Value?: string | undefined;
}

/**
 * Attribute values a resource exposes under a filter name; `undefined` means the filter
 * name is not supported for this resource type.
 */
export type FilterAttributes<T> = (resource: T, filterName: string) => readonly (string | undefined)[] | undefined;

export function globToRegExp(pattern: string): RegExp {
  // EC2 escapes a literal * or ? with a backslash
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) out += escapeRegExp(pattern[++i]!);
    else if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else out += escapeRegExp(c);
  }
  return new RegExp(`^${out}$`, 's');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Tag filters (`tag:<key>`, `tag-key`, `tag-value`) understood by every taggable resource. */
export function tagFilterValues(tags: readonly KeyValueTag[] | undefined, filterName: string): string[] | undefined {
  const list = tags ?? [];
  if (filterName.startsWith('tag:')) {
    const key = filterName.slice(4);
    return list.filter((t) => t.Key === key).map((t) => t.Value ?? '');
  }
  if (filterName === 'tag-key') return list.map((t) => t.Key ?? '');
  if (filterName === 'tag-value') return list.map((t) => t.Value ?? '');
  return undefined;
}

export function matchesEc2Filters<T>(
  resource: T,
  filters: readonly NameValuesFilter[] | undefined,
  attributes: FilterAttributes<T>,
): boolean {
  for (const filter of filters ?? []) {
    const name = filter.Name ?? '';
    const actual = attributes(resource, name);
    if (actual === undefined) throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    const wanted = filter.Values ?? [];
    const ok = wanted.some((w) => {
      const re = globToRegExp(w);
      return actual.some((a) => a !== undefined && re.test(a));
    });
    if (!ok) return false;
  }
  return true;
}

/**
 * Offset pagination with opaque tokens. A token from another listing (or a stale one)
 * is rejected through `invalidToken`, mirroring services that validate their tokens.
 */
export function paginate<T>(
  items: readonly T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  invalidToken: () => Error,
): { page: T[]; nextToken: string | undefined } {
  let offset = 0;
  if (nextToken !== undefined && nextToken !== '') {
    const decoded = decodeToken(nextToken);
    if (decoded === undefined || decoded > items.length) throw invalidToken();
    offset = decoded;
  }
  const size = maxResults === undefined || maxResults <= 0 ? items.length : maxResults;
  const page = items.slice(offset, offset + size);
  const end = offset + page.length;
  return { page, nextToken: end < items.length ? encodeToken(end) : undefined };
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ sandboxOffset: offset })).toString('base64');
}

function decodeToken(token: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { sandboxOffset?: unknown };
    return typeof parsed.sandboxOffset === 'number' ? parsed.sandboxOffset : undefined;
  } catch {
    return undefined;
  }
}
