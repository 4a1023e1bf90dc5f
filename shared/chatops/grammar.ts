import { INVISIBLE_CHARACTER } from '../invisible-characters.js';
import { type AccessLevel, type AmiChoice, COMMAND_NAMES, type Command, type CommandName, type GroupRef, type MaxUnavailable, type ParseResult } from './types.js';
import { ACCOUNT_ID, CLUSTER_NAME, IMAGE_ID, INSTANCE_ID, REGION } from '../ids.js';
import { type Place, placeKey } from '../aws/places.js';
import type { FreezeScope } from '../fleet/freeze.js';

/**
 * The one command grammar of chat-ops. Slack (`/nodes <text>`), Amazon Q Developer in chat
 * applications (direct invocation) and the CLI (`npx eks-node-lifecycle <text>`) all hand the
 * text a person typed to `parseCommand`, so a command means the same thing everywhere.
 *
 * Parsing is total: any string gives a `ParseResult`, never an exception, because the text is
 * untrusted and a parser that throws would turn a typo into a 500. The steps, in order:
 *
 * 1. undo what Slack does to text: unwrap auto-links (`<http://host|host>` → `host`), then
 *    decode `&amp;`, `&lt;`, `&gt;` (after unwrapping, so a typed `&lt;` stays a literal `<`);
 * 2. refuse text longer than {@link MAX_COMMAND_LENGTH} or holding an invisible character
 *    (controls, format characters such as U+200B or tag characters, bidi overrides: they
 *    make an audit record read differently from what ran), naming the argument it is in;
 * 3. split into words: whitespace separates, straight and smart quotes group, an em or en
 *    dash at the start of a word is the `--` that autocorrect replaced;
 * 4. the first word is the command (case-insensitive), the rest its arguments and flags
 *    (`--flag value` or `--flag=value`; `--reason` takes the rest of the line);
 * 5. each value is checked against what AWS and Kubernetes accept, so a command that parses
 *    names something that can exist. A cluster may be written with its place, account and
 *    region first (`444455556666/eu-west-1/prod/web`); which place a short `prod/web` means
 *    is not the grammar's to say (run-command resolves it against the fleet).
 *
 * `formatCommand` writes the canonical text of a command: `parseCommand(formatCommand(c))`
 * gives `c` back, so an audit record or a button's "typed equivalent" can be replayed.
 */

/** The longest command accepted, in characters after Slack's escaping is undone. */
export const MAX_COMMAND_LENGTH = 1000;
/** The longest `--reason`, in characters: enough for a sentence or two and a ticket link. */
export const MAX_REASON_LENGTH = 500;
/** Raw text beyond this is refused before any work: five times the limit covers `&amp;` escaping. */
const MAX_RAW_LENGTH = 5 * MAX_COMMAND_LENGTH;
/** How much of an offending word an error message shows. */
const SHOWN_TOKEN_LENGTH = 40;

/** EKS managed node group names and Auto Scaling group names, as far as we accept them. */
const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
/** Kubernetes node names: DNS-1123 subdomains. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
/** EKS AMI release versions (`1.31.3-20250103`, `v20250103`) and Bottlerocket versions (`1.29.0-abcd1234`). */
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/;
const APPROVAL_ID = /^apr-[a-z0-9]{12}$/;
/** A person's `promote --to` waiting for a second person (promotion-commands.ts). */
export const PROMOTE_REQUEST_ID = /^prm-[a-z0-9]{12}$/;
/** A ring name (fleet/promotion-policy.ts RING_NAME; not imported, so the Slack entry's bundle stays without the policy's schema). */
const RING_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
/** A release key (fleet/release.ts releaseKey): `al2023-x86_64-standard-1.31-20241115`. */
const RELEASE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

const USAGE: Record<CommandName, string> = {
  help: 'help [command]',
  status: 'status [cluster[/group]]',
  plan: 'plan [cluster[/group]]',
  doctor: 'doctor [cluster[/group]]',
  rollout: 'rollout <cluster>/<group> [--ami latest|<release>|<ami-id>] [--max-unavailable N|N%] [--now]',
  drain: 'drain <node-name|instance-id> [--force]',
  uncordon: 'uncordon <node-name|instance-id>',
  pause: 'pause <cluster>/<group>',
  resume: 'resume <cluster>/<group> --pause N',
  abort: 'abort <cluster>/<group>',
  approve: 'approve <approval-id|cluster/group|promote-request-id> [--reason <text>]',
  deny: 'deny <approval-id|cluster/group|promote-request-id> [--reason <text>]',
  history: 'history [cluster]',
  approvals: 'approvals [cluster]',
  freeze: 'freeze all|ring <name>|cluster <name> --reason <text>',
  unfreeze: 'unfreeze all|ring <name>|cluster <name>',
  promotions: 'promotions',
  promotion: 'promotion status <release>',
  hold: 'hold <release> --reason <text>',
  release: 'release <release>',
  promote: 'promote <release> --to <ring>',
};

/** Other words people type for a command. */
const ALIASES: Readonly<Record<string, CommandName>> = { reject: 'deny' };

/** How a flag takes its value: none, the next word, or the rest of the line. */
type FlagKind = 'switch' | 'value' | 'rest';

const FLAGS: Record<CommandName, Readonly<Record<string, FlagKind>>> = {
  help: {},
  status: {},
  plan: {},
  doctor: {},
  rollout: { ami: 'value', 'max-unavailable': 'value', now: 'switch' },
  drain: { force: 'switch' },
  uncordon: {},
  pause: {},
  resume: { pause: 'value' },
  abort: {},
  approve: { reason: 'rest' },
  deny: { reason: 'rest' },
  history: {},
  approvals: {},
  freeze: { reason: 'rest' },
  unfreeze: {},
  promotions: {},
  promotion: {},
  hold: { reason: 'rest' },
  release: {},
  promote: { to: 'value' },
};

/** The usage line of one command, as shown in errors and help. */
export function usageOf(name: CommandName): string {
  return USAGE[name];
}

/** Every usage line, one per command: what a person needs when the command itself is unknown. */
export function usageOfAll(): string {
  return COMMAND_NAMES.map((name) => USAGE[name]).join('\n');
}

/**
 * What a command needs of the person who sends it. `help` needs nothing; reading needs read;
 * anything that changes nodes needs act; approving is its own level, so the people who may
 * roll are not automatically the ones who may wave a rollout through.
 */
export function requiredLevel(command: Command): AccessLevel | null {
  switch (command.name) {
    case 'help':
      return null;
    case 'status':
    case 'plan':
    case 'doctor':
    case 'history':
    case 'approvals':
    case 'promotions':
    case 'promotion':
      return 'read';
    // fleet-wide or per cluster: checked again by promotion-commands.ts for what they name (act on `*`, or on the cluster)
    case 'freeze':
    case 'unfreeze':
    case 'hold':
    case 'release':
    case 'promote':
    case 'rollout':
    case 'drain':
    case 'uncordon':
    case 'pause':
    case 'resume':
    case 'abort':
      return 'act';
    case 'approve':
    case 'deny':
      return 'approve';
  }
}

/** The cluster a command names and the place written with it, if any (`commandCluster` with the place). */
export function commandAddress(command: Command): { cluster: string; place?: Place } | undefined {
  const cluster = commandCluster(command);
  if (cluster === undefined) return undefined;
  const place = command.name === 'pause' || command.name === 'resume' || command.name === 'abort' ? command.rollout.place : command.name === 'approve' || command.name === 'deny' ? (command.approval.kind === 'group' ? command.approval.place : undefined) : 'place' in command ? command.place : undefined;
  return { cluster, ...placed(place) };
}

/**
 * The cluster a command names, for authorization before anything is looked up. A drain names
 * none (its cluster is found from the instance) and neither does an approval by id (from the
 * approval record): those are authorized once the cluster is known.
 */
export function commandCluster(command: Command): string | undefined {
  switch (command.name) {
    case 'help':
    case 'drain':
    case 'uncordon':
    // fleet promotion: a release or a freeze scope, authorized by promotion-commands.ts
    case 'freeze':
    case 'unfreeze':
    case 'promotions':
    case 'promotion':
    case 'hold':
    case 'release':
    case 'promote':
      return undefined;
    case 'status':
    case 'plan':
    case 'doctor':
    case 'history':
    case 'approvals':
    case 'rollout':
      return command.cluster;
    case 'pause':
    case 'resume':
    case 'abort':
      return command.rollout.cluster;
    case 'approve':
    case 'deny':
      return command.approval.kind === 'group' ? command.approval.cluster : undefined;
  }
}

/**
 * The canonical typed form of a command: lower-case names, defaults left out, flags in usage
 * order. Audit records store it and Slack shows it as the equivalent of a button, so it must
 * parse back to the same command.
 */
export function formatCommand(command: Command): string {
  switch (command.name) {
    case 'help':
      return command.topic === undefined ? 'help' : `help ${command.topic}`;
    case 'status':
    case 'plan':
    case 'doctor':
      return words(command.name, command.cluster === undefined ? undefined : `${at(command.place)}${command.group === undefined ? command.cluster : `${command.cluster}/${command.group}`}`);
    case 'history':
    case 'approvals':
      return words(command.name, command.cluster === undefined ? undefined : `${at(command.place)}${command.cluster}`);
    case 'rollout':
      return words(
        'rollout',
        `${at(command.place)}${command.cluster}/${command.group}`,
        command.ami.kind === 'latest' ? undefined : `--ami ${command.ami.kind === 'release' ? command.ami.release : command.ami.imageId}`,
        command.maxUnavailable === undefined ? undefined : `--max-unavailable ${command.maxUnavailable}`,
        command.now ? '--now' : undefined,
      );
    case 'drain':
      return words('drain', `${at(command.place)}${command.target.kind === 'node' ? command.target.nodeName : command.target.instanceId}`, command.force ? '--force' : undefined);
    case 'uncordon':
      return words('uncordon', `${at(command.place)}${command.target.kind === 'node' ? command.target.nodeName : command.target.instanceId}`);
    case 'pause':
    case 'resume':
    case 'abort':
      return words(command.name, `${at(command.rollout.place)}${command.rollout.cluster}/${command.rollout.group}`, command.pause === undefined ? undefined : `--pause ${command.pause}`);
    case 'approve':
    case 'deny':
      return words(
        command.name,
        command.approval.kind === 'group' ? `${at(command.approval.place)}${command.approval.cluster}/${command.approval.group}` : command.approval.id,
        command.reason === undefined ? undefined : `--reason ${formatReason(command.reason)}`,
      );
    case 'freeze':
      return words('freeze', describeFreezeScope(command.scope), `--reason ${formatReason(command.reason)}`);
    case 'unfreeze':
      return words('unfreeze', describeFreezeScope(command.scope));
    case 'promotions':
      return 'promotions';
    case 'promotion':
      return words('promotion', 'status', command.release);
    case 'hold':
      return words('hold', command.release, `--reason ${formatReason(command.reason)}`);
    case 'release':
      return words('release', command.release);
    case 'promote':
      return words('promote', command.release, `--to ${command.ring}`);
  }
}

/** `all`, `ring prod`, `cluster prod-eu`: as typed (fleet/freeze.ts describeScope, without its import's weight). */
function describeFreezeScope(scope: FreezeScope): string {
  return scope.kind === 'all' ? 'all' : scope.kind === 'ring' ? `ring ${scope.ring}` : `cluster ${scope.cluster}`;
}

/**
 * Reads what a person typed as a command. Never throws. Empty text asks for help; an error
 * is one sentence naming the offending word, with the usage of the command (or of all of
 * them when the command itself is unknown).
 */
export function parseCommand(text: string): ParseResult {
  if (typeof text !== 'string') return failAll('the command must be text.');
  if (text.length > MAX_RAW_LENGTH) return failAll(`the command is ${text.length} characters long, more than the ${MAX_COMMAND_LENGTH} allowed.`);
  const line = decodeSlackEntities(unwrapSlackLinks(text));
  if (line.length > MAX_COMMAND_LENGTH) return failAll(`the command is ${line.length} characters long, more than the ${MAX_COMMAND_LENGTH} allowed.`);
  const hidden = INVISIBLE_CHARACTER.exec(line);
  if (hidden) return failAll(`${argumentAt(line, hidden.index)} contains an invisible ${/\p{Cc}/u.test(hidden[0]) ? 'control' : 'format'} character (${codePointLabel(hidden[0])}); type it again without it.`);

  const first = nextWord(line, 0);
  if (first === undefined) return { ok: true, command: { name: 'help' } };
  if ('unclosed' in first) return failAll(unclosedQuote(line, first.unclosed));
  const typed = dashToFlag(first.value);
  // `--help` first (a CLI habit) is the help command
  const name = /^(--help|-h)$/i.test(typed) ? 'help' : commandNamed(typed);
  if (name === undefined) return failAll(unknownCommand(typed));

  const parsed = parseArguments(name, line, first.end);
  if (!parsed.ok) return { ok: false, error: parsed.error, usage: USAGE[name] };
  if (parsed.value.help) return { ok: true, command: { name: 'help', topic: name } };
  const built = BUILDERS[name](parsed.value);
  return built.ok ? { ok: true, command: built.value } : { ok: false, error: built.error, usage: USAGE[name] };
}

// ---------------------------------------------------------------------------------------
// Arguments and flags
// ---------------------------------------------------------------------------------------

type Result<T> = { ok: true; value: T } | { ok: false; error: string };

interface Arguments {
  positional: string[];
  /** flag name → value (`true` for a switch) */
  flags: Map<string, string | true>;
  /** `--help` (or `-h`) was given: show this command's help instead of running it */
  help: boolean;
}

/**
 * Splits what follows the command into positional arguments and flags, checking the flags
 * against the command's: unknown, repeated, missing or unexpected values are errors here so
 * that each builder only ever sees well-formed flags.
 */
function parseArguments(name: CommandName, line: string, from: number): Result<Arguments> {
  const known = FLAGS[name];
  const args: Arguments = { positional: [], flags: new Map(), help: false };
  let at = from;
  for (;;) {
    const rest = restFlagAt(line, at, known);
    if (rest !== undefined) {
      const text = readRest(rest.flag, line.slice(rest.from));
      if (!text.ok) return text;
      args.flags.set(rest.flag, text.value);
      return { ok: true, value: args };
    }
    const word = nextWord(line, at);
    if (word === undefined) return { ok: true, value: args };
    if ('unclosed' in word) return { ok: false, error: unclosedQuote(line, word.unclosed) };
    at = word.end;
    const value = dashToFlag(word.value);
    if (!isFlag(value)) {
      args.positional.push(value);
      continue;
    }

    const equals = value.indexOf('=');
    const typedName = equals < 0 ? value : value.slice(0, equals);
    const flag = asciiLower(typedName.replace(/^-{1,2}/, ''));
    if (flag === 'help' || flag === 'h') return { ok: true, value: { ...args, help: true } };
    const kind = Object.hasOwn(known, flag) ? known[flag] : undefined;
    if (kind === undefined || !typedName.startsWith('--')) return { ok: false, error: unknownFlag(name, typedName, flag) };
    if (args.flags.has(flag)) return { ok: false, error: `${show(`--${flag}`)} is given twice; give it once.` };

    if (kind === 'switch') {
      if (equals >= 0) return { ok: false, error: `${show(`--${flag}`)} takes no value; write just --${flag}.` };
      args.flags.set(flag, true);
    } else if (kind === 'rest') {
      // only a flag written with quotes (`"--reason"`) gets here; restFlagAt read the others
      const text = readRest(flag, `${equals >= 0 ? value.slice(equals + 1) : ''}${line.slice(word.end)}`);
      if (!text.ok) return text;
      args.flags.set(flag, text.value);
      return { ok: true, value: args };
    } else if (equals >= 0) {
      const inline = value.slice(equals + 1);
      if (inline === '') return { ok: false, error: missingValue(flag) };
      args.flags.set(flag, inline);
    } else {
      const next = nextWord(line, at);
      if (next === undefined) return { ok: false, error: missingValue(flag) };
      if ('unclosed' in next) return { ok: false, error: unclosedQuote(line, next.unclosed) };
      const nextValue = dashToFlag(next.value);
      if (nextValue === '' || nextValue.startsWith('--')) return { ok: false, error: missingValue(flag) };
      args.flags.set(flag, nextValue);
      at = next.end;
    }
  }
}

const REST_FLAG = /\s*(?:--|[\u2013\u2014])([A-Za-z][A-Za-z-]*)(?:=|(?=\s)|$)/y;

/**
 * A flag that takes the rest of the line (`--reason`), read from the raw text before the
 * word is split, so an apostrophe in `--reason=don't` is text rather than an unclosed quote.
 */
function restFlagAt(line: string, at: number, known: Readonly<Record<string, FlagKind>>): { flag: string; from: number } | undefined {
  REST_FLAG.lastIndex = at;
  const match = REST_FLAG.exec(line);
  if (match === null) return undefined;
  const flag = asciiLower(match[1]!);
  return Object.hasOwn(known, flag) && known[flag] === 'rest' ? { flag, from: REST_FLAG.lastIndex } : undefined;
}

/** A word that starts with a dash is a flag (or a mistyped one): no value we accept starts with one. */
function isFlag(word: string): boolean {
  return word.length > 1 && word.startsWith('-');
}

/** Autocorrect (Slack, macOS) turns `--now` into `—now`: a leading em or en dash means `--`. */
function dashToFlag(word: string): string {
  return word.replace(/^[\u2013\u2014]/, '--');
}

/**
 * `--reason` takes the rest of the line, so nobody has to quote a sentence. A rest that is
 * one quoted string (straight or smart quotes) is unquoted; whitespace runs become one space.
 */
function readRest(flag: string, raw: string): Result<string> {
  let text = collapseSpaces(raw);
  if (isQuotedWhole(text)) text = text.slice(1, -1).trim();
  if (text === '') return { ok: false, error: `--${flag} needs a value: the rest of the line, e.g. --${flag} canary looked healthy.` };
  if (text.length > MAX_REASON_LENGTH) return { ok: false, error: `--${flag} is ${text.length} characters long, more than the ${MAX_REASON_LENGTH} allowed.` };
  return { ok: true, value: text };
}

/** Text that starts and ends with quotes of one family, with none of that family inside. */
function isQuotedWhole(text: string): boolean {
  if (text.length < 2) return false;
  const family = quoteFamily(text[0]!);
  if (family === undefined || quoteFamily(text[text.length - 1]!) !== family) return false;
  for (let i = 1; i < text.length - 1; i++) if (quoteFamily(text[i]!) === family) return false;
  return true;
}

/**
 * The reason as typed text that reads back as itself: as is, or — when it looks like one
 * quoted string and would lose its quotes — inside quotes of the other family; `&`, `<` and
 * `>` are escaped only when Slack's unescaping would otherwise change the text.
 */
function formatReason(reason: string): string {
  let text = reason;
  if (isQuotedWhole(text)) text = quoteFamily(text[0]!) === 'double' ? `'${text}'` : `"${text}"`;
  if (decodeSlackEntities(unwrapSlackLinks(text)) !== text) text = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return text;
}

function collapseSpaces(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

const BUILDERS: Record<CommandName, (args: Arguments) => Result<Command>> = {
  help: ({ positional }) => {
    const [topic, extra] = positional;
    if (extra !== undefined) return tooMany('help', extra);
    if (topic === undefined) return ok({ name: 'help' });
    const name = commandNamed(topic);
    if (name === undefined) return { ok: false, error: `there is no command ${show(topic)} to explain${suggestionFor(topic) ?? '; type help to see them all.'}` };
    return ok({ name: 'help', topic: name });
  },

  status: ({ positional }) => scope('status', positional),
  plan: ({ positional }) => scope('plan', positional),
  doctor: ({ positional }) => scope('doctor', positional),

  history: ({ positional }) => clusterScope('history', positional),
  approvals: ({ positional }) => clusterScope('approvals', positional),

  rollout: ({ positional, flags }) => {
    const ref = oneGroupRef('rollout', positional, 'the node group to roll');
    if (!ref.ok) return ref;
    const ami = flags.get('ami');
    const choice = typeof ami === 'string' ? parseAmi(ami) : ok<AmiChoice>({ kind: 'latest' });
    if (!choice.ok) return choice;
    const command: Command = { name: 'rollout', ...ref.value, ami: choice.value, now: flags.has('now') };
    const max = flags.get('max-unavailable');
    if (typeof max === 'string') {
      const parsed = parseMaxUnavailable(max);
      if (!parsed.ok) return parsed;
      command.maxUnavailable = parsed.value;
    }
    return ok(command);
  },

  drain: ({ positional, flags }) => {
    const [target, extra] = positional;
    if (target === undefined) return { ok: false, error: 'drain needs the node to drain: its Kubernetes node name or its EC2 instance id (i-…).' };
    if (extra !== undefined) return tooMany('drain', extra);
    const parsed = parsePlacedDrainTarget(target);
    return parsed.ok ? ok({ name: 'drain', target: parsed.value.target, ...placed(parsed.value.place), force: flags.has('force') }) : parsed;
  },

  uncordon: ({ positional }) => {
    const [target, extra] = positional;
    if (target === undefined) return { ok: false, error: 'uncordon needs the node to put back: its Kubernetes node name or its EC2 instance id (i-…).' };
    if (extra !== undefined) return tooMany('uncordon', extra);
    const parsed = parsePlacedDrainTarget(target);
    return parsed.ok ? ok({ name: 'uncordon', target: parsed.value.target, ...placed(parsed.value.place) }) : parsed;
  },

  pause: (args) => control('pause', args),
  resume: (args) => control('resume', args),
  abort: (args) => control('abort', args),
  approve: (args) => decide('approve', args),
  deny: (args) => decide('deny', args),

  freeze: ({ positional, flags }) => {
    const scope = freezeScope('freeze', positional);
    if (!scope.ok) return scope;
    const reason = flags.get('reason');
    if (typeof reason !== 'string') return { ok: false, error: 'freeze needs --reason <text>: the people whose rollouts stop will read why.' };
    return ok({ name: 'freeze', scope: scope.value, reason });
  },
  unfreeze: ({ positional }) => {
    const scope = freezeScope('unfreeze', positional);
    return scope.ok ? ok({ name: 'unfreeze', scope: scope.value }) : scope;
  },
  promotions: ({ positional }) => (positional[0] === undefined ? ok({ name: 'promotions' }) : tooMany('promotions', positional[0])),
  promotion: ({ positional }) => {
    const [sub, release, extra] = positional;
    if (sub === undefined || asciiLower(sub) !== 'status') return { ok: false, error: sub === undefined ? 'promotion needs status and the release: promotion status <release> (promotions lists them).' : `${show(sub)} is not a promotion subcommand: write promotion status <release>.` };
    if (extra !== undefined) return tooMany('promotion', extra);
    const key = releaseArgument('promotion status', release);
    return key.ok ? ok({ name: 'promotion', release: key.value }) : key;
  },
  hold: ({ positional, flags }) => {
    const [release, extra] = positional;
    if (extra !== undefined) return { ok: false, error: `${show(extra)} is one argument too many for hold; to give a reason, write --reason <text>.` };
    const key = releaseArgument('hold', release);
    if (!key.ok) return key;
    const reason = flags.get('reason');
    if (typeof reason !== 'string') return { ok: false, error: 'hold needs --reason <text>: a hold stops the release everywhere, and whoever releases it reads why.' };
    return ok({ name: 'hold', release: key.value, reason });
  },
  release: ({ positional }) => {
    const [release, extra] = positional;
    if (extra !== undefined) return tooMany('release', extra);
    const key = releaseArgument('release', release);
    return key.ok ? ok({ name: 'release', release: key.value }) : key;
  },
  promote: ({ positional, flags }) => {
    const [release, extra] = positional;
    if (extra !== undefined) return tooMany('promote', extra);
    const key = releaseArgument('promote', release);
    if (!key.ok) return key;
    const ring = flags.get('to');
    if (typeof ring !== 'string') return { ok: false, error: 'promote needs --to <ring>: the ring to promote the release to.' };
    if (!RING_NAME.test(ring)) return { ok: false, error: `${show(ring)} is not a valid --to: a ring name is lower case letters, digits and dashes (up to 32), like prod.` };
    return ok({ name: 'promote', release: key.value, ring });
  },
};

/** `all`, `ring <name>` or `cluster <name>`: what a freeze covers. */
function freezeScope(name: 'freeze' | 'unfreeze', positional: string[]): Result<FreezeScope> {
  const [kind, value, extra] = positional;
  if (kind === undefined) return { ok: false, error: `${name} needs what it covers: all, ring <name> or cluster <name>.` };
  const which = asciiLower(kind);
  if (which === 'all') return value === undefined ? ok({ kind: 'all' }) : tooMany(name, value);
  if (which !== 'ring' && which !== 'cluster') return { ok: false, error: `${show(kind)} is not what a ${name} covers: write all, ring <name> or cluster <name>.` };
  if (value === undefined) return { ok: false, error: `${name} ${which} needs the ${which}'s name.` };
  if (extra !== undefined) return tooMany(name, extra);
  if (which === 'ring') return RING_NAME.test(value) ? ok({ kind: 'ring', ring: value }) : { ok: false, error: `${show(value)} is not a valid ring name: lower case letters, digits and dashes (up to 32), like prod.` };
  const checked = checkCluster(value);
  return checked.ok ? ok({ kind: 'cluster', cluster: value }) : checked;
}

/** A release key as `promotions` lists it. */
function releaseArgument(name: string, text: string | undefined): Result<string> {
  if (text === undefined) return { ok: false, error: `${name} needs the release: its key as promotions lists it, e.g. al2023-x86_64-standard-1.31-20241115.` };
  if (RELEASE_KEY.test(text)) return ok(text);
  return { ok: false, error: `${show(text)} is not a release key: up to 80 letters, digits, ".", "-" and "_", as promotions lists it.` };
}

/** `status`/`plan`/`doctor`: everything, one cluster, or one group. */
function scope(name: 'status' | 'plan' | 'doctor', positional: string[]): Result<Command> {
  const [target, extra] = positional;
  if (extra !== undefined) return tooMany(name, extra);
  if (target === undefined) return ok({ name });
  const split = splitPlace(target);
  if (!split.ok) return split;
  const { place, rest } = split.value;
  if (!rest.includes('/')) {
    const checked = checkCluster(rest);
    return checked.ok ? ok({ name, cluster: rest, ...placed(place) }) : checked;
  }
  const ref = parseGroupRef(rest);
  return ref.ok ? ok({ name, ...ref.value, ...placed(place) }) : ref;
}

/** `history`/`approvals`: everywhere, or one cluster. */
function clusterScope(name: 'history' | 'approvals', positional: string[]): Result<Command> {
  const [cluster, extra] = positional;
  if (extra !== undefined) return tooMany(name, extra);
  if (cluster === undefined) return ok({ name });
  const split = splitPlace(cluster);
  if (!split.ok) return split;
  const { place, rest } = split.value;
  if (rest.includes('/')) return { ok: false, error: `${name} takes a cluster, not a node group: write ${name} ${show(`${at(place)}${rest.slice(0, rest.indexOf('/'))}`)}.` };
  const checked = checkCluster(rest);
  return checked.ok ? ok({ name, cluster: rest, ...placed(place) }) : checked;
}

function control(name: 'pause' | 'resume' | 'abort', { positional, flags }: Arguments): Result<Command> {
  const ref = oneGroupRef(name, positional, `the node group whose rollout to ${name}`);
  if (!ref.ok) return ref;
  // resume names the pause it ends (status shows it), so a stale resume cannot undo a newer pause
  const pause = flags.get('pause');
  if (typeof pause !== 'string') return ok({ name, rollout: ref.value });
  if (!/^[1-9][0-9]{0,8}$/.test(pause)) return { ok: false, error: `--pause takes the pause's number (status shows it, as in "paused #3"), not ${show(pause)}.` };
  return ok({ name, rollout: ref.value, pause: Number(pause) });
}

function decide(name: 'approve' | 'deny', { positional, flags }: Arguments): Result<Command> {
  const [target, extra] = positional;
  if (target === undefined) {
    if (flags.has('reason')) return { ok: false, error: `${name} needs the approval id (apr-…) or <cluster>/<group> before --reason, which takes the rest of the line.` };
    return { ok: false, error: `${name} needs the approval id (apr-…) or the <cluster>/<group> whose rollout waits.` };
  }
  if (extra !== undefined) return { ok: false, error: `${show(extra)} is one argument too many for ${name}; to give a reason, write --reason <text>.` };
  const approval = parseApproval(target);
  if (!approval.ok) return approval;
  const reason = flags.get('reason');
  return ok(typeof reason === 'string' ? { name, approval: approval.value, reason } : { name, approval: approval.value });
}

/** Exactly one `[<account>/<region>/]<cluster>/<group>` argument. */
function oneGroupRef(name: CommandName, positional: string[], what: string): Result<GroupRef> {
  const [typed, extra] = positional;
  if (typed === undefined) return { ok: false, error: `${name} needs ${what}, as <cluster>/<group>.` };
  const split = splitPlace(typed);
  if (!split.ok) return split;
  const ref = groupRefOf(name, split.value.rest, extra, what);
  return ref.ok ? ok({ ...ref.value, ...placed(split.value.place) }) : ref;
}

function groupRefOf(name: CommandName, target: string, extra: string | undefined, what: string): Result<GroupRef> {
  if (extra !== undefined) {
    // `rollout prod web`: the slash was forgotten
    if (!target.includes('/') && CLUSTER_NAME.test(target) && GROUP.test(extra)) return { ok: false, error: `write the node group as one word with a slash: ${show(`${target}/${extra}`)}, not ${show(`${target} ${extra}`)}.` };
    return tooMany(name, extra);
  }
  if (!target.includes('/')) {
    const checked = checkCluster(target);
    if (!checked.ok) return checked;
    return { ok: false, error: `${show(target)} names a cluster but no node group; ${name} needs <cluster>/<group>, e.g. ${show(`${target}/<group>`)}.` };
  }
  return parseGroupRef(target);
}

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

/**
 * `<account>/<region>/<rest>`: the place written before a cluster (or a node). Read as one
 * when there are three or more parts and the first is digits or the second a region, so that
 * `prod/a/b` stays what it always was: a node group name with a slash (refused as such).
 */
function splitPlace(text: string): Result<{ place?: Place; rest: string }> {
  const parts = text.split('/');
  if (parts.length < 3 || !(/^\d+$/.test(parts[0]!) || REGION.test(parts[1]!))) return ok({ rest: text });
  const [accountId, region] = parts as [string, string];
  if (!ACCOUNT_ID.test(accountId)) return { ok: false, error: `the account ${show(accountId)} in ${show(text)} is not an AWS account id (12 digits); write <account>/<region>/<cluster>, e.g. 444455556666/eu-west-1/prod.` };
  if (!REGION.test(region)) return { ok: false, error: `the region ${show(region)} in ${show(text)} is not an AWS region (like eu-west-1); write <account>/<region>/<cluster>.` };
  const rest = parts.slice(2).join('/');
  if (rest === '') return { ok: false, error: `${show(text)} names a place but no cluster; write <account>/<region>/<cluster>.` };
  return ok({ place: { accountId, region }, rest });
}

/** `444455556666/eu-west-1/` before a cluster written with its place; nothing for the short form. */
function at(place: Place | undefined): string {
  return place ? `${placeKey(place)}/` : '';
}

/** `{ place }` when one was written, else nothing: a short form parses to exactly what it always did. */
function placed(place: Place | undefined): { place?: Place } {
  return place ? { place } : {};
}

function parsePlacedDrainTarget(text: string): Result<{ target: DrainTarget; place?: Place }> {
  const split = splitPlace(text);
  if (!split.ok) return split;
  if (!split.value.place && text.includes('/')) return { ok: false, error: `${show(text)} is not a node name or an instance id: write <node|instance-id>, or <account>/<region>/<node|instance-id>.` };
  const target = parseDrainTarget(split.value.rest);
  return target.ok ? ok({ target: target.value, ...placed(split.value.place) }) : target;
}

function parseGroupRef(text: string): Result<GroupRef> {
  const slash = text.indexOf('/');
  const cluster = text.slice(0, slash);
  const group = text.slice(slash + 1);
  if (cluster === '') return { ok: false, error: `${show(text)} has no cluster before the slash; write <cluster>/<group>.` };
  const checked = checkCluster(cluster);
  if (!checked.ok) return checked;
  if (group === '') return { ok: false, error: `${show(text)} has no node group after the slash; write <cluster>/<group>.` };
  if (!GROUP.test(group)) {
    const why = group.includes('/') ? 'a node group name has no slash' : 'up to 255 letters, digits, ".", "-" and "_", starting with a letter or digit';
    return { ok: false, error: `${show(group)} is not a valid node group name: ${why}.` };
  }
  return ok({ cluster, group });
}

function checkCluster(cluster: string): Result<string> {
  if (CLUSTER_NAME.test(cluster)) return ok(cluster);
  return { ok: false, error: `${show(cluster)} is not a valid cluster name: up to 100 letters, digits, "-" and "_", starting with a letter or digit.` };
}

function parseAmi(text: string): Result<AmiChoice> {
  if (asciiLower(text) === 'latest') return ok({ kind: 'latest' });
  if (asciiLower(text).startsWith('ami-')) {
    if (IMAGE_ID.test(text)) return ok({ kind: 'image', imageId: text });
    return { ok: false, error: `${show(text)} is not an AMI id: expected ami- followed by 8 or 17 lowercase hexadecimal digits.` };
  }
  if (RELEASE.test(text)) return ok({ kind: 'release', release: text });
  return { ok: false, error: `${show(text)} is not a valid --ami: use latest, a release version such as 1.31.3-20250103, or an image id such as ami-0abcdef1234567890.` };
}

function parseMaxUnavailable(text: string): Result<MaxUnavailable> {
  const match = /^(\d{1,4})(%?)$/.exec(text);
  const n = match ? Number(match[1]) : NaN;
  if (match?.[2] === '%' && n >= 1 && n <= 100) return ok(`${n}%` as `${number}%`);
  if (match?.[2] === '' && n >= 1 && n <= 1000) return ok(n);
  return { ok: false, error: `${show(text)} is not a valid --max-unavailable: use a number of nodes from 1 to 1000, or a percentage from 1% to 100%.` };
}

type DrainTarget = Extract<Command, { name: 'drain' }>['target'];

function parseDrainTarget(text: string): Result<DrainTarget> {
  if (INSTANCE_ID.test(text)) return ok({ kind: 'instance', instanceId: text });
  if (/^i-[0-9a-f]*$/i.test(text)) return { ok: false, error: `${show(text)} is not an instance id: expected i- followed by 8 or 17 lowercase hexadecimal digits.` };
  if (NODE_NAME.test(text)) return ok({ kind: 'node', nodeName: text });
  const hint = NODE_NAME.test(text.toLowerCase()) ? ' (node names are lowercase)' : ': expected a Kubernetes node name such as ip-10-0-1-5.eu-west-1.compute.internal or an instance id i-…';
  return { ok: false, error: `${show(text)} is not a node name or an instance id${hint}.` };
}

type Approval = Extract<Command, { name: 'approve' | 'deny' }>['approval'];

function parseApproval(text: string): Result<Approval> {
  if (text.includes('/')) {
    const split = splitPlace(text);
    if (!split.ok) return split;
    const { place, rest } = split.value;
    if (!rest.includes('/')) {
      const checked = checkCluster(rest);
      if (!checked.ok) return checked;
      return { ok: false, error: `${show(text)} names a cluster but no node group; write ${show(`${text}/<group>`)}.` };
    }
    const ref = parseGroupRef(rest);
    return ref.ok ? ok({ kind: 'group', ...ref.value, ...placed(place) }) : ref;
  }
  if (APPROVAL_ID.test(text)) return ok({ kind: 'id', id: text });
  if (PROMOTE_REQUEST_ID.test(text)) return ok({ kind: 'promotion', id: text });
  if (asciiLower(text).startsWith('prm-')) return { ok: false, error: `${show(text)} is not a promote request id: expected prm- followed by 12 lowercase letters or digits.` };
  if (asciiLower(text).startsWith('apr-')) return { ok: false, error: `${show(text)} is not an approval id: expected apr- followed by 12 lowercase letters or digits.` };
  return { ok: false, error: `${show(text)} is neither an approval id (apr-…) nor a <cluster>/<group>.` };
}

// ---------------------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------------------

type Word = { value: string; start: number; end: number } | { unclosed: number };

const QUOTES: Readonly<Record<string, 'double' | 'single'>> = {
  '"': 'double',
  '\u201C': 'double', // “
  '\u201D': 'double', // ”
  '\u201E': 'double', // „
  "'": 'single',
  '\u2018': 'single', // ‘
  '\u2019': 'single', // ’
  '\u201A': 'single', // ‚
};

/**
 * Quotes come in two families; any quote of a family closes any other of it, because Slack
 * and autocorrect turn `"` into “ or ” depending on position, and people paste either.
 */
function quoteFamily(char: string): 'double' | 'single' | undefined {
  return Object.hasOwn(QUOTES, char) ? QUOTES[char] : undefined;
}

const SPACE = /\s/;

/**
 * The next word from `at`: quoted parts join the word they touch (`a"b c"` is `ab c`), as in
 * a shell. `{ unclosed }` points at a word whose quote never closes.
 */
function nextWord(line: string, at: number): Word | undefined {
  let i = at;
  while (i < line.length && SPACE.test(line[i]!)) i++;
  if (i >= line.length) return undefined;
  const start = i;
  let value = '';
  while (i < line.length && !SPACE.test(line[i]!)) {
    const family = quoteFamily(line[i]!);
    if (family === undefined) {
      value += line[i];
      i++;
      continue;
    }
    let close = i + 1;
    while (close < line.length && quoteFamily(line[close]!) !== family) close++;
    if (close >= line.length) return { unclosed: start };
    value += line.slice(i + 1, close);
    i = close + 1;
  }
  return { value, start, end: i };
}

function unclosedQuote(line: string, start: number): string {
  return `the quote in ${show(line.slice(start))} is never closed.`;
}

// ---------------------------------------------------------------------------------------
// Slack's escaping
// ---------------------------------------------------------------------------------------

/** `<scheme:…>` or `<scheme:…|label>`: how Slack sends text it auto-linked. */
const SLACK_LINK = /<([A-Za-z][A-Za-z0-9+.-]*:[^<>|\s]*)(?:\|([^<>]*))?>/g;

/**
 * Slack links anything that looks like a host name (`ip-10-0-1-5.eu-west-1.compute.internal`
 * becomes `<http://ip-10-0-1-5…|ip-10-0-1-5…>`): the label is what the person typed; without
 * a label, the URL without its scheme. Mentions (`<@U…>`, `<#C…>`) have no scheme and stay.
 */
function unwrapSlackLinks(text: string): string {
  return text.replace(SLACK_LINK, (_link, url: string, label: string | undefined) => (label ? label : url.replace(/^[A-Za-z][A-Za-z0-9+.-]*:(\/\/)?/, '')));
}

/** Slack escapes exactly these three; one pass, so `&amp;lt;` is the text `&lt;`. */
function decodeSlackEntities(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_entity, name: string) => (name === 'amp' ? '&' : name === 'lt' ? '<' : '>'));
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/**
 * Which part of a command the character at `at` is in, as an error names it: `--reason`, the
 * value of `--ami`, a flag, an argument, or the command name. Reads the line as parseCommand
 * does (words, quotes, a rest-of-line flag), without judging it.
 */
function argumentAt(line: string, at: number): string {
  const first = nextWord(line, 0);
  if (first === undefined || 'unclosed' in first || at < first.end) return 'the command name';
  const name = commandNamed(dashToFlag(first.value));
  const known = name === undefined ? {} : FLAGS[name];
  let pos = first.end;
  let valueOf: string | undefined;
  for (;;) {
    const rest = restFlagAt(line, pos, known);
    if (rest !== undefined && at >= rest.from) return `--${rest.flag}`;
    const word = nextWord(line, pos);
    if (word === undefined || 'unclosed' in word) return 'the command';
    if (at < word.end) {
      if (valueOf !== undefined) return `--${valueOf}`;
      const value = dashToFlag(word.value);
      if (!isFlag(value)) return `the argument ${show(word.value)}`;
      const equals = value.indexOf('=');
      const flag = asciiLower((equals < 0 ? value : value.slice(0, equals)).replace(/^-{1,2}/, ''));
      // a flag name typed inside quotes may hold anything (a line break): shown escaped unless it is a plain name
      if (equals >= 0 && at >= word.start + equals) return /^[a-z0-9-]+$/.test(flag) ? `--${flag}` : `the flag ${show(value.slice(0, equals))}`;
      return `the flag ${show(equals < 0 ? value : value.slice(0, equals))}`;
    }
    const value = dashToFlag(word.value);
    const flag = isFlag(value) ? asciiLower(value.split('=')[0]!.replace(/^-{1,2}/, '')) : undefined;
    const kind = flag !== undefined && Object.hasOwn(known, flag) ? known[flag] : undefined;
    // a quoted `"--reason"` takes the rest of the line too
    if (kind === 'rest') return `--${flag}`;
    valueOf = kind === 'value' && !value.includes('=') ? flag : undefined;
    pos = word.end;
  }
}

function codePointLabel(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * A word as an error message may show it: invisible characters written as `\u{…}`, backticks
 * (which would end the code span) as quotes, cut at {@link SHOWN_TOKEN_LENGTH} characters.
 */
function show(word: string): string {
  if (word === '') return '`""`';
  const chars = Array.from(word);
  const cut = chars.length > SHOWN_TOKEN_LENGTH ? [...chars.slice(0, SHOWN_TOKEN_LENGTH - 1), '…'] : chars;
  const safe = cut.map((c) => (/[\p{C}\s]/u.test(c) ? (c === ' ' ? ' ' : `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`) : c === '`' ? "'" : c)).join('');
  return `\`${safe}\``;
}

function failAll(error: string): ParseResult {
  return { ok: false, error, usage: usageOfAll() };
}

function tooMany(name: CommandName, extra: string): Result<never> {
  return { ok: false, error: `${show(extra)} is one argument too many for ${name}.` };
}

const VALUE_EXAMPLES: Readonly<Record<string, string>> = { ami: 'latest', 'max-unavailable': '25%', to: 'prod' };

function missingValue(flag: string): string {
  return `--${flag} needs a value, e.g. --${flag} ${Object.hasOwn(VALUE_EXAMPLES, flag) ? VALUE_EXAMPLES[flag] : '<value>'}.`;
}

function unknownFlag(name: CommandName, typed: string, flag: string): string {
  const flags = Object.keys(FLAGS[name]);
  if (flags.length === 0) return `${name} takes no flags, so ${show(typed)} is not understood.`;
  const close = closest(flag, flags);
  if (close !== undefined) return `${name} does not take ${show(typed)} — did you mean --${close}?`;
  return `${name} does not take ${show(typed)}; its flags are ${listOf(flags.map((f) => `--${f}`))}.`;
}

function unknownCommand(typed: string): string {
  return `${show(typed)} is not a command${suggestionFor(typed) ?? '; type help to see them all.'}`;
}

/** `— did you mean \`rollout\`?` when a known command (or alias) is close to what was typed. */
function suggestionFor(typed: string): string | undefined {
  const close = closest(asciiLower(typed), [...COMMAND_NAMES, ...Object.keys(ALIASES)]);
  return close === undefined ? undefined : ` — did you mean \`${close}\`?`;
}

function commandNamed(typed: string): CommandName | undefined {
  const lower = asciiLower(typed);
  if ((COMMAND_NAMES as readonly string[]).includes(lower)) return lower as CommandName;
  return Object.hasOwn(ALIASES, lower) ? ALIASES[lower] : undefined;
}

/**
 * The one candidate a typo most likely meant: the nearest by edit distance (a swap of two
 * neighbours counts once), within 2 edits (1 for words of three letters or fewer), else the
 * only candidate the word begins. Nothing when the word is far from everything.
 */
function closest(typed: string, candidates: readonly string[]): string | undefined {
  if (typed.length === 0 || typed.length > 30) return undefined;
  const limit = typed.length <= 3 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  if (best !== undefined) return best;
  const prefixed = typed.length >= 2 ? candidates.filter((c) => c.startsWith(typed)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

/** Lower-cases ASCII only, so no Unicode case folding (the Kelvin sign → `k`) can forge a name. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function words(...parts: (string | undefined)[]): string {
  return parts.filter((p) => p !== undefined).join(' ');
}

function listOf(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}
