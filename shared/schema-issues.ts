/**
 * Schema failures as the issues our typed errors carry (`InvalidInputError`,
 * `ConfigurationError`): a dotted path and a message a person can act on.
 *
 * The schemas use `zod/mini`, which tree-shakes to a few tens of KB where classic `zod` puts
 * ~440 KB in every bundle; but mini, unlike classic, does not load any locale, so every
 * built-in check would fail with a bare "Invalid input". Loading the English messages here
 * (~3 KB; importing `locales` as a namespace would pull in all ~50 of them) gives the same
 * texts classic zod gave. Every place that turns a zod error into words goes through this
 * module, so the messages are loaded wherever they are read. Zod writes an issue's message
 * while parsing, and this runs at import, before any parse.
 */
import { config, safeParse, type core } from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { InvalidInputError } from './errors.js';

config(en());

export interface SchemaIssue {
  /** dotted, '' for the value itself */
  path: string;
  message: string;
}

/** Every issue of a failed parse, each path under `prefix` when one is given. */
export function issuesOf(error: core.$ZodError, prefix = ''): SchemaIssue[] {
  return error.issues.flatMap((issue) => flatten(issue, prefix ? [prefix] : []));
}

type Path = readonly PropertyKey[];

/**
 * A union that matched no member says only "Invalid input", at the union itself — for an
 * event, at the root: no field named. So the member the value was meant for speaks instead:
 * the members whose literal fields (`detail-type`, `source`, `kind`) all match; when none
 * does, the literal fields that came nearest to matching, with what each may be.
 */
function flatten(issue: core.$ZodIssue, base: Path): SchemaIssue[] {
  const at = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ path: at.map(String).filter(Boolean).join('.'), message: issue.message }];
  const members = issue.errors.map((issues) => ({ issues, literals: issues.filter(isLiteralMismatch) }));
  const fewest = Math.min(...members.map((m) => m.literals.length));
  if (fewest === 0) {
    const meant = members.filter((m) => m.literals.length === 0).sort((a, b) => a.issues.length - b.issues.length)[0]!;
    // members of plain values (a number or a percentage) all fail at the union itself: say what each wanted
    if (meant.issues.every((i) => i.path.length === 0) && members.every((m) => m.issues.every((i) => i.path.length === 0))) {
      return [{ path: at.map(String).join('.'), message: members.flatMap((m) => m.issues.map((i) => i.message)).join(', or ') }];
    }
    return meant.issues.flatMap((i) => flatten(i, at));
  }
  const paths = new Map<string, Set<unknown>>();
  for (const m of members.filter((m) => m.literals.length === fewest)) for (const l of m.literals) paths.set(l.path.map(String).join('.'), new Set());
  for (const m of members) for (const l of m.literals) paths.get(l.path.map(String).join('.'))?.add(l.values[0]);
  return [...paths].map(([path, values]) => ({
    path: [...at.map(String), path].filter(Boolean).join('.'),
    message: `must be one of ${[...values].map((v) => JSON.stringify(v)).join(', ')}`,
  }));
}

/** A literal field (`z.literal`) that holds something else: what tells a union's members apart. */
function isLiteralMismatch(issue: core.$ZodIssue): issue is core.$ZodIssueInvalidValue {
  return issue.code === 'invalid_value' && issue.values.length === 1 && issue.path.length === 1;
}

/** An input that failed its schema, as the typed error; the first ten issues are enough to act on. */
export function invalidInput(error: core.$ZodError, prefix = ''): InvalidInputError {
  return new InvalidInputError(issuesOf(error, prefix).slice(0, 10), { cause: error });
}

/** Deeper than any event, payload or state this service reads (EventBridge events nest ~6). */
export const MAX_INPUT_DEPTH = 64;

/**
 * Parses what arrived from outside — a Lambda event, a Slack body — or throws the typed error.
 * JSON may nest thousands of levels, and a schema's checks compare what they find (a
 * `{"length": [[[…]]]}` where a string was expected is coerced to a primitive, recursively),
 * so a value deeper than {@link MAX_INPUT_DEPTH} is refused before the schema sees it: a stack
 * overflow is not an answer.
 */
export function parseUntrusted<S extends core.$ZodType>(schema: S, value: unknown, prefix = ''): core.output<S> {
  const deep = deeperThan(value, MAX_INPUT_DEPTH);
  if (deep !== undefined) {
    throw new InvalidInputError([{ path: [prefix, ...deep].filter(Boolean).join('.'), message: `nests deeper than ${MAX_INPUT_DEPTH} levels` }]);
  }
  const result = safeParse(schema, value);
  if (!result.success) throw invalidInput(result.error, prefix);
  return result.data;
}

/** The path to the first place `value` nests deeper than `limit` (arrays and objects), if any. */
export function deeperThan(value: unknown, limit: number): string[] | undefined {
  const stack: { value: unknown; path: string[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (path.length >= limit) return path.slice(0, 3);
    for (const [key, child] of Object.entries(v)) stack.push({ value: child, path: [...path, key] });
  }
  return undefined;
}
