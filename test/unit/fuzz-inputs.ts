import assert from 'node:assert/strict';
import fc from 'fast-check';

/**
 * Inputs for fuzzing the entry points (fuzz-*.slow.test.ts): values nobody would send on purpose,
 * and mutations of values that are valid — a field deleted, a type changed, a string made
 * huge or hostile, a key such as `__proto__` added, a subtree nested thousands deep, the
 * wrong `detail-type`. Mutations start from real shapes, so that a good share of them stay
 * valid (or nearly) and the fuzzing reaches past the first schema check.
 */

/** Runs per property: the issue asks for at least 10,000 per entry point; `FUZZ_RUNS=100000` digs deeper. */
export const RUNS = Math.max(10_000, Number(process.env['FUZZ_RUNS'] ?? 0) || 0);

export type Origin = 'generated' | 'mutated';
export interface FuzzInput<T = unknown> {
  origin: Origin;
  value: T;
}

/** Keys that are dangerous or confusing in a JavaScript object. */
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '', ' ', '\u0000', '🚀', 'détail', 'DETAIL', 'detail-type ', 'kind', 'then'];
const oddKey: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...ODD_KEYS), fc.string({ maxLength: 12 }));

/** Strings that sit on a boundary of some schema of the project, or are plainly hostile. */
const ODD_STRINGS = [
  '',
  ' ',
  '\t\n',
  'null',
  'undefined',
  'NaN',
  '0',
  '-1',
  '1e309',
  'true',
  '{}',
  '[]',
  '__proto__',
  'constructor',
  'prod',
  'PROD',
  'prod ',
  'prod/prod-workers',
  'i-0',
  'i-1234567890abcdef0',
  `i-${'f'.repeat(17)}`,
  `i-${'f'.repeat(18)}`,
  'i-1234567890ABCDEF0',
  'ami-0123456789abcdef0',
  'ami-$(reboot)',
  'lt-0123456789abcdef0',
  'apr-0123456789ab',
  '00000000-0000-0000-0000-000000000000',
  '87654321-4321-4321-4321-21098765432g',
  'arn:aws:states:eu-west-1:123456789012:execution:x:y',
  'arn:aws:iam::123456789012:role/*',
  '2026-11-21T09:00:00Z',
  '2026-13-45T99:99:99Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00.000Z',
  '2026-11-21T09:00:00.123456789+14:00',
  'available',
  'AVAILABLE',
  'running',
  'autoscaling:EC2_INSTANCE_TERMINATING',
  'autoscaling:EC2_INSTANCE_LAUNCHING',
  '; rm -rf /',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '<!here> *bold* `code`',
  '\u202Eevil',
  '\uD800',
  'x'.repeat(255),
  'x'.repeat(256),
  'x'.repeat(2049),
];

/** Every EventBridge detail-type and source the service reacts to, and a few it does not. */
const KNOWN_DETAIL_TYPES = [
  'EC2 Instance State-change Notification',
  'EC2 Instance-launch Lifecycle Action',
  'EC2 Instance-terminate Lifecycle Action',
  'EC2 Spot Instance Interruption Warning',
  'EC2 Instance Rebalance Recommendation',
  'EC2 AMI State Change',
  'EC2 Image Builder Image State Change',
  'Scheduled Event',
  'Rollout Planned',
  'Rollout Approval Requested',
  'Rollout Failed',
  'Rollout Finished',
  'Node Drain Finished',
  'AWS API Call via CloudTrail',
];
const KNOWN_SOURCES = ['aws.ec2', 'aws.autoscaling', 'aws.imagebuilder', 'aws.events', 'aws.scheduler', 'eks-node-lifecycle', 'evil.corp'];
const KNOWN_KINDS = ['manual-drain', 'rollout-drain', 'detect', 'scheduled-detection', 'rollout-control', 'rollout'];

/**
 * Characters that trip up text handling: NUL and controls, a lone surrogate, combining and
 * right-to-left marks, wide and astral characters, separators and quotes. (A short list
 * rather than fast-check's whole-Unicode units, whose tables cost seconds to build.)
 */
const oddCharacter = fc.constantFrom('\u0000', '\u0007', '\t', '\n', '\r', ' ', '\u00A0', '\u2028', '\uD800', '\uDFFF', 'e\u0301', '\u202E', '\u200B', '\uFEFF', 'é', 'Ω', '中', '🚀', '👩‍👩‍👧', '"', "'", '`', '\\', '/', ':', ';', '$', '%', '&', '<', '>', '*', '-', '_', '.', 'a', 'Z', '0', '9');

/** A big string (tens of kilobytes): a schema must say no without choking. */
const hugeString = fc.tuple(fc.constantFrom('x', 'i-0', '🚀', 'é', '\u0000', '%'), fc.integer({ min: 10_000, max: 60_000 })).map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)));

/**
 * A value nested `depth` levels deep, in objects or arrays. It prints itself in one line, so
 * that fast-check can report a counterexample holding it (its own printer would overflow the
 * stack); so does every 32nd level, in case a later mutation takes the value apart.
 */
function nested(depth: number, inArrays: boolean, leaf: unknown): unknown {
  let value = leaf;
  for (let level = 1; level <= depth; level++) {
    value = inArrays ? [value] : { a: value };
    if (level % 32 === 0 || level === depth) Object.defineProperty(value, fc.toStringMethod, { value: printNested, enumerable: false });
  }
  return value;
}

function printNested(this: unknown): string {
  let depth = 0;
  let value = this;
  for (; Array.isArray(value) ? value.length === 1 : isContainer(value) && Object.keys(value).length === 1 && 'a' in value; depth++) value = Array.isArray(value) ? value[0] : (value as { a: unknown }).a;
  return `${Array.isArray(this) ? '[…]' : '{a:…}'} nested ${depth} deep around ${fc.stringify(value).slice(0, 200)}`;
}

const deepValue = fc.tuple(fc.constantFrom(100, 1_000, 5_000), fc.boolean(), fc.jsonValue({ maxDepth: 1 })).map(([depth, inArrays, leaf]) => nested(depth, inArrays, leaf));

/** An object whose own keys include `__proto__` and friends (as JSON.parse would make them). */
const pollutingObject: fc.Arbitrary<Record<string, unknown>> = fc
  .array(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ polluted: true }), fc.constant({ prototype: { polluted: true } }))), { minLength: 1, maxLength: 3 })
  .map((entries) => {
    const object: Record<string, unknown> = {};
    for (const [key, value] of entries) setOwn(object, key, value);
    return object;
  });

/**
 * JSON objects that break what `String()`, template literals, `Array.from` or `await` assume
 * of an object: a `toString` that is no function, a huge `length`, a `then`.
 */
const lyingObject = fc.constantFrom<unknown>({ toString: 'not a function' }, { toString: null, valueOf: null }, { valueOf: 1, toString: 1 }, { toJSON: 'x' }, { then: 1 }, { length: 4_294_967_296 }, { length: -1, 0: 'x' });

/** Strings only: boundary values, odd characters, random text, now and then a huge one. */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: oddCharacter, maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: hugeString },
);

/** Anything a JSON parser (or a confused caller) could hand a function. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: oddString },
  { weight: 2, arbitrary: fc.constantFrom(null, undefined, true, false, 0, -0, -1, 1.5, 2 ** 53, -(2 ** 63), Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_VALUE) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...ODD_STRINGS), { maxLength: 3 }) },
  { weight: 1, arbitrary: pollutingObject },
  { weight: 1, arbitrary: lyingObject },
  { weight: 1, arbitrary: deepValue },
);

/** Sets an own, enumerable property, even `__proto__` (which plain assignment would take as the prototype). */
function setOwn(target: object, key: PropertyKey, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else (target as Record<PropertyKey, unknown>)[key] = value;
}

type Path = readonly (string | number)[];

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return value !== null && typeof value === 'object';
}

/** Every path into a value (the root included), breadth first, at most `limit`. */
function pathsOf(root: unknown, limit = 200): Path[] {
  const paths: Path[] = [[]];
  for (let i = 0; i < paths.length && paths.length < limit; i++) {
    const value = get(root, paths[i]!);
    if (!isContainer(value)) continue;
    for (const key of Array.isArray(value) ? value.map((_, index) => index) : Object.keys(value)) paths.push([...paths[i]!, key]);
  }
  return paths.slice(0, limit);
}

function get(root: unknown, path: Path): unknown {
  let value = root;
  for (const key of path) value = isContainer(value) ? (value as Record<string | number, unknown>)[key] : undefined;
  return value;
}

/**
 * A copy that keeps `__proto__` as an own key and copies no prototype, so that mutating it
 * leaves generated values as they were (fast-check replays them while shrinking). Below 64
 * levels a value is shared rather than copied: only deep values go that far, and they are
 * not taken apart.
 */
function clone(value: unknown, depth = 0): unknown {
  if (!isContainer(value) || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => clone(v, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(copy, key, clone((value as Record<string, unknown>)[key], depth + 1));
  return copy;
}

/**
 * One change to a value, at the path `at` picks (modulo the number of paths). Each kind
 * draws only what it uses: a value to put in, a key to add, a `pick` among variants.
 */
type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'retype' | 'string' | 'nest' | 'wrong-kind'; at: number; pick: number }
  | { op: 'add-key'; at: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: oddValue }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('retype' as const, 'string' as const, 'string' as const), at: fc.nat(), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('add-key' as const), at: fc.nat(), key: oddKey, value: oddValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('nest' as const, 'wrong-kind' as const), at: fc.nat(), pick: fc.nat() }) },
);

/** How deep a `nest` mutation buries a value: mostly a little, now and then past where recursion gives up. */
const NEST_DEPTHS = [1, 2, 5, 20, 100, 3_000];

/** A string changed the way typos, encodings and attackers change strings; `extra` is text to splice in. */
export function editString(s: string, pick: number, extra: string): string {
  switch (pick % 9) {
    case 0:
      return '';
    case 1:
      return `${s}${extra}`;
    case 2:
      return `${extra}${s}`;
    case 3:
      return s.toUpperCase();
    case 4:
      return s.slice(0, Math.floor(s.length / 2));
    case 5:
      return ` ${s}\n`;
    case 6:
      return s.repeat(Math.max(1, Math.ceil(20_000 / Math.max(1, s.length))));
    case 7:
      return `${s}\u0000`;
    default:
      return s.normalize('NFD').replace(/e/g, 'é');
  }
}

/** A string edited (with one of the odd strings spliced in), or turned into a number or a one-element array. */
function mutateString(s: string, pick: number): unknown {
  if (pick % 11 === 9) return Number(s);
  if (pick % 11 === 10) return [s];
  return editString(s, pick, ODD_STRINGS[Math.floor(pick / 11) % ODD_STRINGS.length]!.slice(0, 100));
}

/** The same content as another type: a string as a number, an object as an array, and so on. */
function retype(value: unknown, pick: number): unknown {
  if (typeof value === 'string') return [Number(value), value.length, value === 'true', { value }, null][pick % 5];
  if (typeof value === 'number') return [String(value), value === 0, [value], null][pick % 4];
  if (typeof value === 'boolean') return [String(value), Number(value), null][pick % 3];
  if (Array.isArray(value)) return [Object.fromEntries(value.map((v, i) => [i, v])), `${value.length} items`, value.length, value[0]][pick % 4];
  if (isContainer(value)) return [Object.values(value), jsonOf(value), Object.keys(value).length, null][pick % 4];
  return [{}, [], '', 0][pick % 4];
}

/** An object as JSON text: its keys only (its values may be huge or thousands deep). */
function jsonOf(value: object): string {
  return JSON.stringify(Object.keys(value));
}

/** Applies mutations to a copy of `seed`; neither the seed nor the mutations' values are changed. */
function mutate(seed: unknown, mutations: readonly Mutation[]): unknown {
  let root = clone(seed);
  for (const m of mutations) {
    const paths = pathsOf(root);
    const path = paths[m.at % paths.length]!;
    const parentPath = path.slice(0, -1);
    const key = path.at(-1);
    const current = get(root, path);
    const set = (value: unknown): void => {
      if (key === undefined) {
        root = value;
        return;
      }
      const parent = get(root, parentPath);
      if (Array.isArray(parent)) parent[key as number] = value;
      else setOwn(parent as object, key, value);
    };
    switch (m.op) {
      case 'delete': {
        const parent = get(root, parentPath);
        if (key === undefined) root = undefined;
        else if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Record<string, unknown>)[key as string];
        break;
      }
      case 'replace':
        set(clone(m.value));
        break;
      case 'retype':
        set(retype(current, m.pick));
        break;
      case 'string':
        set(typeof current === 'string' ? mutateString(current, m.pick) : retype(current, m.pick));
        break;
      case 'add-key': {
        const target = isContainer(current) && !Array.isArray(current) ? current : isContainer(root) && !Array.isArray(root) ? root : undefined;
        if (target) setOwn(target, m.key, clone(m.value));
        else set(clone(m.value));
        break;
      }
      case 'nest':
        set(nested(NEST_DEPTHS[m.pick % NEST_DEPTHS.length]!, Math.floor(m.pick / NEST_DEPTHS.length) % 2 === 0, current));
        break;
      case 'wrong-kind': {
        // the discriminators a handler dispatches on: an event of the wrong kind
        if (!isContainer(root) || Array.isArray(root)) break;
        const field = ['detail-type', 'source', 'kind'][m.pick % 3]!;
        const choices = field === 'detail-type' ? KNOWN_DETAIL_TYPES : field === 'source' ? KNOWN_SOURCES : KNOWN_KINDS;
        setOwn(root, field, choices[Math.floor(m.pick / 3) % choices.length]);
        break;
      }
    }
  }
  return root;
}

/** Mutations (one to four) of one of the seeds. */
function mutationsOf<T>(seeds: readonly T[]): fc.Arbitrary<unknown> {
  assert.ok(seeds.length > 0, 'mutations need at least one valid seed');
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([i, ms]) => mutate(seeds[i], ms));
}

/** Records shaped like EventBridge envelopes, with random or known source, detail-type and detail. */
const eventBridgeEnvelope: fc.Arbitrary<unknown> = fc.record(
  {
    version: fc.oneof(fc.constant('0'), fc.string({ maxLength: 3 })),
    id: fc.oneof(fc.uuid(), fc.string({ maxLength: 10 })),
    'detail-type': fc.oneof(fc.constantFrom(...KNOWN_DETAIL_TYPES), fc.string({ maxLength: 40 })),
    source: fc.oneof(fc.constantFrom(...KNOWN_SOURCES), fc.string({ maxLength: 20 })),
    account: fc.oneof(fc.constant('123456789012'), fc.string({ maxLength: 14 })),
    time: fc.oneof(fc.constant('2026-11-21T09:00:00Z'), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 25 })),
    region: fc.oneof(fc.constant('eu-west-1'), fc.string({ maxLength: 12 })),
    resources: fc.oneof(fc.array(fc.string({ maxLength: 30 }), { maxLength: 2 }), oddValue),
    detail: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.oneof(oddKey, fc.constantFrom('instance-id', 'EC2InstanceId', 'state', 'State', 'ImageId', 'cluster', 'outcome', 'LifecycleActionToken')), oddValue, { maxKeys: 6 }), oddValue),
  },
  { requiredKeys: [] },
);

/** Anything at all, JSON or not: Dates, Maps, typed arrays, sparse arrays, null-prototype objects, boxed values. */
const anyValue: fc.Arbitrary<unknown> = fc.anything({
  maxDepth: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
});

/**
 * The inputs of one entry point: about a third generated from nothing, two thirds mutations
 * of its valid inputs, each tagged with where it came from. `extra` adds inputs shaped for
 * this entry point (`{ kind: …, cluster: … }` records, say).
 */
export function entryPointInputs(seeds: readonly unknown[], extra: fc.Arbitrary<unknown>[] = []): fc.Arbitrary<FuzzInput> {
  const generated = fc.oneof(anyValue, fc.jsonValue(), eventBridgeEnvelope, pollutingObject, oddValue, ...extra).map((value): FuzzInput => ({ origin: 'generated', value }));
  const mutated = mutationsOf(seeds).map((value): FuzzInput => ({ origin: 'mutated', value }));
  return fc.oneof({ weight: 1, arbitrary: generated }, { weight: 2, arbitrary: mutated });
}

/** Tally of one fuzzed entry point: by origin, how many inputs it accepted and how many it refused, and notes (error names…). */
export class Tally {
  readonly counts = { generated: { accepted: 0, rejected: 0 }, mutated: { accepted: 0, rejected: 0 } };
  readonly notes = new Map<string, number>();

  count(origin: Origin, outcome: 'accepted' | 'rejected'): void {
    this.counts[origin][outcome]++;
  }

  note(what: string): void {
    this.notes.set(what, (this.notes.get(what) ?? 0) + 1);
  }

  get total(): number {
    const { generated, mutated } = this.counts;
    return generated.accepted + generated.rejected + mutated.accepted + mutated.rejected;
  }

  /** Mutations of valid inputs must land on both sides, or the property proved nothing about one of them. */
  assertBothSides(minShare = 0.01): void {
    const { accepted, rejected } = this.counts.mutated;
    const n = accepted + rejected;
    assert.ok(accepted >= n * minShare, `only ${accepted} of ${n} mutated inputs were accepted: the fuzzing does not reach past validation`);
    assert.ok(rejected >= n * minShare, `only ${rejected} of ${n} mutated inputs were rejected: the mutations do not break anything`);
  }

  toString(): string {
    const { generated, mutated } = this.counts;
    const notes = [...this.notes].sort((a, b) => b[1] - a[1]).map(([what, n]) => `${what}: ${n}`).join(', ');
    return `generated ${generated.accepted} accepted / ${generated.rejected} rejected; mutated ${mutated.accepted} accepted / ${mutated.rejected} rejected${notes ? ` (${notes})` : ''}`;
  }
}

/** `Object.prototype` as it was when the file loaded: an input must never add to it. */
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
export function assertNoPrototypePollution(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS, 'Object.prototype was polluted');
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype was polluted');
}
