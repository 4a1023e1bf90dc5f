import { usageOf } from './grammar.js';
import { COMMAND_NAMES, type CommandName, type Reply, type ReplySection } from './types.js';

/**
 * The help every way in shows (Slack, Amazon Q Developer, the CLI), written for an SRE who has
 * never used the service: what each command does, who may run it, and — per command — its
 * arguments, flags and examples. Usage lines come from the grammar, so help cannot drift
 * from what the parser accepts.
 */

interface Topic {
  /** one line: what the command does */
  summary: string;
  /** its arguments and flags, as `[what you type, what it means]` */
  arguments: [string, string][];
  examples: string[];
  /** who may run it, and anything else a first-time user must know */
  notes: string[];
}

const READ = 'Needs read access to the cluster.';
const ACT = 'Needs act access to the cluster.';
const GROUP_REF: [string, string] = ['<cluster>/<group>', 'the EKS cluster name, a slash, and the node group: an EKS managed node group name, or the Auto Scaling group name of a self-managed group'];
const REASON: [string, string] = ['--reason <text>', `optional: why, kept in the audit record; takes the rest of the line (quotes optional), up to 500 characters`];
const READ_ANY = 'Needs read access to a cluster.';
const FLEET_ACT = 'all and ring need act access on * (every cluster); cluster needs act access to that cluster.';
const FREEZE_SCOPE: [string, string] = ['all | ring <name> | cluster <name>', 'everything; the clusters and groups of a ring of the promotion policy; or one EKS cluster'];
const RELEASE_KEY: [string, string] = ['<release>', 'the release key, as promotions lists it (e.g. al2023-x86_64-standard-1.31-20241115)'];
const PROMOTE_REQUEST: [string, string] = ['<promote-request-id>', 'or a person\'s promote --to waiting for a second person, prm- and 12 letters or digits (approve on * needed; never its requester)'];
const APPROVAL_NOTES = [
  'Needs approve access to the cluster. Nobody can approve or deny a rollout they requested: that is the point of a second person.',
  'An approval request expires after 24 hours, having changed nothing.',
];

const TOPICS: Record<CommandName, Topic> = {
  help: {
    summary: 'List the commands, or explain one with its flags and examples.',
    arguments: [['[command]', 'the command to explain, e.g. rollout']],
    examples: ['help', 'help rollout'],
    notes: ['Anyone may ask for help. `<command> --help` works too.'],
  },
  status: {
    summary: 'Show rollouts and drains in progress and approvals waiting: everywhere, in one cluster, or for one node group.',
    arguments: [['[cluster[/group]]', 'narrow the answer to one cluster, or to one node group of it']],
    examples: ['status', 'status prod', 'status prod/web'],
    notes: [READ],
  },
  plan: {
    summary: 'Show which node groups run an older AMI than their target, and what a rollout would do; changes nothing.',
    arguments: [['[cluster[/group]]', 'narrow the plan to one cluster, or to one node group of it']],
    examples: ['plan', 'plan prod/web'],
    notes: [READ],
  },
  doctor: {
    summary: 'Check what the service needs before trusting it with a cluster or a node group: every setting with where it came from, configuration problems, API access and RBAC, lifecycle hooks, the Node Termination Handler or Karpenter on the same nodes, the image channel.',
    arguments: [['[cluster[/group]]', 'one cluster (every group of it) or one node group; without it, every cluster you may read']],
    examples: ['doctor prod', 'doctor prod/web'],
    notes: [
      READ,
      'Changes nothing. Each check is ok, a warning or a problem, with what to do. The CLI exits 1 when a problem blocks something (rollouts stopped by a configuration problem, an API the service cannot reach, RBAC it lacks, a missing terminate hook), 0 otherwise.',
    ],
  },
  rollout: {
    summary: 'Move a node group to a newer AMI: nodes are replaced in batches, a canary first, and each old node is drained before it goes.',
    arguments: [
      GROUP_REF,
      ['--ami latest', '(default) the newest recommended release for the group\'s family and Kubernetes version, whatever its channel tag (soak, pinned) says'],
      ['--ami <release>', 'an EKS AMI release version (1.31.3-20250103, v20250103) or a Bottlerocket version (1.29.0-abcd1234)'],
      ['--ami ami-…', 'one exact image id'],
      ['--max-unavailable N|N%', 'for this rollout only, nodes replaced at once: 1 to 1000, or 1% to 100% of the group rounded up; otherwise the group’s max-unavailable tag (default 1)'],
      ['--now', 'start even outside the group’s maintenance window (without it, a rollout outside the window is refused)'],
    ],
    examples: ['rollout prod/web', 'rollout prod/web --ami 1.31.3-20250103 --max-unavailable 25% --now'],
    notes: [
      ACT,
      'One rollout per node group at a time. A group tagged eks-node-lifecycle/rollout=approve waits for a second person to approve.',
      'Follow it with status; stop it with pause or abort.',
    ],
  },
  drain: {
    summary: 'Cordon one node and evict its pods, respecting PodDisruptionBudgets.',
    arguments: [
      ['<node-name>', 'the Kubernetes node name, e.g. ip-10-0-1-5.eu-west-1.compute.internal'],
      ['<instance-id>', 'or its EC2 instance id, i- and 8 or 17 hex digits; the cluster is found from the instance'],
      ['--force', 'when the group’s drain timeout is reached, delete the pods that budgets still protect instead of failing'],
    ],
    examples: ['drain ip-10-0-1-5.eu-west-1.compute.internal', 'drain i-0abcdef1234567890 --force'],
    notes: [ACT, 'uncordon puts the node back afterwards.'],
  },
  uncordon: {
    summary: 'Put a drained node back in service: take back exactly the cordon, label and taint the drain added.',
    arguments: [
      ['<node-name>', 'the Kubernetes node name, e.g. ip-10-0-1-5.eu-west-1.compute.internal'],
      ['<instance-id>', 'or its EC2 instance id; the cluster is found from the instance'],
    ],
    examples: ['uncordon ip-10-0-1-5.eu-west-1.compute.internal', 'uncordon i-0abcdef1234567890'],
    notes: [
      ACT,
      'A cordon, label or taint that was there before the drain (someone else\'s) stays: the drain recorded what it added on the node.',
      'Refused while a drain of the node is running, while its group is being rolled (abort uncordons a rollout\'s old nodes), and for nodes of Karpenter or of a cluster the service does not know.',
    ],
  },
  pause: {
    summary: 'Pause a rollout at the next batch boundary; the batch in flight finishes first.',
    arguments: [GROUP_REF],
    examples: ['pause prod/web'],
    notes: [ACT, 'The nodes stay as they are until resume or abort.'],
  },
  resume: {
    summary: 'Resume a paused rollout where it stopped.',
    arguments: [GROUP_REF],
    examples: ['resume prod/web --pause 2'],
    notes: [ACT, '--pause names the pause it ends (status and the pause reply show its number): a resume for an older pause changes nothing.'],
  },
  abort: {
    summary: 'Stop a rollout: the batch in flight finishes, old nodes are uncordoned, and the group’s size and launch template are restored.',
    arguments: [GROUP_REF],
    examples: ['abort prod/web'],
    notes: [ACT, 'An update EKS is already running on a managed node group cannot be undone: the group is left as EKS leaves it.'],
  },
  approve: {
    summary: 'Let a rollout that waits for approval go ahead.',
    arguments: [['<approval-id>', 'the id in the approval request, apr- and 12 letters or digits'], ['<cluster>/<group>', 'or the node group whose rollout waits'], PROMOTE_REQUEST, REASON],
    examples: ['approve apr-7k2m9x4q1z8c', 'approve prod/web --reason canary looked healthy in staging'],
    notes: APPROVAL_NOTES,
  },
  deny: {
    summary: 'Refuse a rollout that waits for approval; it ends having changed nothing. `reject` works too.',
    arguments: [['<approval-id>', 'the id in the approval request, apr- and 12 letters or digits'], ['<cluster>/<group>', 'or the node group whose rollout waits'], PROMOTE_REQUEST, REASON],
    examples: ['deny apr-7k2m9x4q1z8c', 'deny prod/web --reason freeze until the incident is closed'],
    notes: APPROVAL_NOTES,
  },
  history: {
    summary: 'Show recent rollouts and drains, who asked for them, and how they ended: everywhere or in one cluster.',
    arguments: [['[cluster]', 'narrow the history to one cluster']],
    examples: ['history', 'history prod'],
    notes: [READ],
  },
  approvals: {
    summary: 'List the rollouts waiting for a second person: the node group, the target image, who requested it, when, when it expires, and the approval id to answer with.',
    arguments: [['[cluster]', 'narrow the list to one cluster']],
    examples: ['approvals', 'approvals prod'],
    notes: [READ, 'Answer one with approve or deny, by its id or its <cluster>/<group>.'],
  },
  freeze: {
    summary: 'Stop new rollouts and promotions everywhere, in one ring or in one cluster; running rollouts pause at their next batch boundary.',
    arguments: [FREEZE_SCOPE, ['--reason <text>', 'required: why, shown by status to everyone whose rollouts wait; takes the rest of the line, up to 500 characters']],
    examples: ['freeze all --reason incident INC-123', 'freeze ring prod --reason end-of-quarter change freeze', 'freeze cluster prod-eu --reason database migration'],
    notes: [FLEET_ACT, 'A freeze never lifts a hold. Freezing the same scope again replaces its reason. status shows every freeze, who set it and since when.'],
  },
  unfreeze: {
    summary: 'Lift a freeze: rollouts and promotions it stopped go on.',
    arguments: [FREEZE_SCOPE],
    examples: ['unfreeze all', 'unfreeze cluster prod-eu'],
    notes: [FLEET_ACT],
  },
  promotions: {
    summary: 'List the fleet promotions: each release, the ring it is at and how that ring stands, whether it is held, when it started and finished.',
    arguments: [],
    examples: ['promotions'],
    notes: [READ_ANY],
  },
  promotion: {
    summary: 'Show one promotion ring by ring: status, groups and how each rollout stands, soak remaining, the last health verdict, and a hold with its evidence.',
    arguments: [RELEASE_KEY],
    examples: ['promotion status al2023-x86_64-standard-1.31-20241115'],
    notes: [READ_ANY],
  },
  hold: {
    summary: 'Hold a release everywhere: nothing starts it, running rollouts of it stop at their next batch boundary.',
    arguments: [RELEASE_KEY, ['--reason <text>', 'required: why; takes the rest of the line']],
    examples: ['hold al2023-x86_64-standard-1.31-20241115 --reason crash loops in payments'],
    notes: ['Needs act access on * (every cluster). Only release lifts a hold.'],
  },
  release: {
    summary: 'Lift the hold of a release: the ring it was at rolls and soaks again from the start.',
    arguments: [RELEASE_KEY],
    examples: ['release al2023-x86_64-standard-1.31-20241115'],
    notes: ['Needs act access on * (every cluster).'],
  },
  promote: {
    summary: 'Skip the remaining soak and promote a release to a ring; or approve entering a ring that waits for approval.',
    arguments: [RELEASE_KEY, ['--to <ring>', 'the ring to promote to: every ring before it passes as promoted by you']],
    examples: ['promote al2023-x86_64-standard-1.31-20241115 --to prod'],
    notes: [
      'Skipping soak always needs a second person: the reply gives a request id (prm-…) that someone else with approve access on * answers with approve (or deny). Needs act access on * to ask.',
      'When the promotion waits for approval to enter exactly that ring, promote is the approval itself: it needs approve access on *.',
    ],
  },
};

/**
 * Help as a reply: without a topic, every command with its usage and what it does, and who
 * may do what; with one, that command's usage, arguments and flags, examples and access.
 */
export function helpReply(topic?: CommandName): Reply {
  return topic === undefined ? overview() : explain(topic);
}

function overview(): Reply {
  const sections: ReplySection[] = [
    { kind: 'table', columns: ['Command', 'What it does'], rows: COMMAND_NAMES.map((name) => [usageOf(name), TOPICS[name].summary]) },
    {
      kind: 'text',
      heading: 'Who may do what',
      lines: [
        'status, plan, doctor, history and approvals need read access to the cluster.',
        'rollout, drain, uncordon, pause, resume and abort need act access.',
        'approve and deny need approve access, and the person who requested a rollout can never approve it.',
        'promotions and promotion status need read access; freeze and unfreeze act access (on * for all or a ring); hold, release and promote act access on *; a promote that skips soak waits for a second person.',
      ],
    },
    {
      kind: 'text',
      heading: 'Names',
      lines: [
        '<cluster> is the EKS cluster name; <group> is an EKS managed node group name, or the Auto Scaling group name of a self-managed group.',
        'With member accounts, a cluster may be named with its place: <account>/<region>/<cluster>[/<group>], e.g. 444455556666/eu-west-1/prod/ng-1; the name alone works while only one place has that cluster.',
        'Type help <command> for its flags and examples.',
      ],
    },
  ];
  return { ok: true, title: 'eks-node-lifecycle commands', sections };
}

function explain(name: CommandName): Reply {
  const topic = TOPICS[name];
  return {
    ok: true,
    title: `${name}: ${topic.summary}`,
    sections: [
      { kind: 'text', heading: 'Usage', lines: [usageOf(name)] },
      { kind: 'fields', heading: 'Arguments and flags', fields: topic.arguments },
      { kind: 'text', heading: 'Examples', lines: topic.examples },
      { kind: 'text', heading: 'Good to know', lines: topic.notes },
    ],
  };
}
