/**
 * `npx eks-node-lifecycle --sandbox <command>`: the command against a fresh sandbox world —
 * the default scenario's cluster `prod` (managed group `system`, self-managed group
 * `prod-workers`, apps behind PodDisruptionBudgets) with a new AL2023 release published but
 * not yet rolled — then the world runs until the work the command started is over, and the
 * chat messages the service posted are printed as the channel would show them.
 */
import { chatParams, releaseAmi, runDefaultScenario, SANDBOX_SLACK, type SandboxCaller, setupChat, SimFunctionUrls, startSandboxSlack, World } from '@eks-node-lifecycle/sandbox';
import { plainWords } from '../shared/chatops/render-terminal.js';
import type { Principal } from '../shared/chatops/types.js';
import { exitCodeOf, type OutputFormat, renderAnswer, sendCommand } from './cli-send.js';

/** The sandbox's operator: may read, act and approve on `prod`. */
export function sandboxOperator(accountId: string): Principal {
  const arn = `arn:aws:iam::${accountId}:role/sandbox-operator`;
  return { id: `iam:${arn}`, display: arn, via: 'cli' };
}

/** Credentials of a session of `role`, as STS would name its caller (`assumed-role/<role>/cli`). */
export function sandboxCredentials(accountId: string, role: string): SandboxCaller {
  return { accessKeyId: `ASIA${role.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 12)}`, secretAccessKey: `sandbox-secret-of-${role}`, arn: `arn:aws:sts::${accountId}:assumed-role/${role}/cli` };
}

/**
 * The CLI against a world: each command signed with SigV4 by `caller` and sent to the world's
 * chatApi function URL, which checks the signature as Lambda does and runs it in the service
 * (`sendCommand`, exactly as against AWS, at the world's virtual time).
 */
export function cliInSandbox(world: World, caller: SandboxCaller = sandboxCredentials(world.model.accountId, 'sandbox-operator')) {
  const urls = new SimFunctionUrls(world);
  urls.addCaller(caller);
  return (text: string, options: { credentials?: SandboxCaller; output?: 'text' | 'json' } = {}) =>
    // time passes while the CLI waits for its answer, as it does against AWS
    world.passTimeWhile(
      sendCommand(text, { url: urls.url('chatApi'), region: world.model.region, credentials: options.credentials ?? caller, signingDate: world.clock.date(), send: urls.send, ...(options.output ? { output: options.output } : {}) }),
    );
}

/** The sandbox's chat world: the default scenario before its release, chat set up, the release published. */
export async function startCliSandbox(options: { workDir?: string } = {}): Promise<{ world: World; operator: Principal; stop: () => Promise<void>; receiver: Awaited<ReturnType<typeof startSandboxSlack>> }> {
  const receiver = await startSandboxSlack();
  const world = await World.start({ params: chatParams(receiver), ...(options.workDir ? { workDir: options.workDir } : {}) });
  try {
    const operator = sandboxOperator(world.model.accountId);
    setupChat(world, receiver, {
      groups: { operators: [operator.id] },
      clusters: { prod: { read: ['group:operators', `channel:${SANDBOX_SLACK.team}:${SANDBOX_SLACK.channel}`], act: ['group:operators'], approve: ['group:operators'], notify: SANDBOX_SLACK.channel } },
    });
    await runDefaultScenario(world, { release: false });
    releaseAmi(world.account, { family: 'al2023', kubernetesVersion: '1.31', date: '20261215' });
    return {
      world,
      operator,
      receiver,
      stop: async () => {
        await world.stop();
        await receiver.close();
      },
    };
  } catch (error) {
    await world.stop();
    await receiver.close();
    throw error;
  }
}

export async function runInSandbox(text: string, print: (line: string) => void, output: OutputFormat = 'text'): Promise<number> {
  const sandbox = await startCliSandbox();
  try {
    const result = await cliInSandbox(sandbox.world)(text, { output: output === 'json' ? 'json' : 'text' });
    print(renderAnswer(result, output));
    // whatever the command started (a rollout, a drain) runs to its end, in virtual time
    await sandbox.world.settle();
    // JSON is the answer alone, so that it parses
    const posted = output === 'json' ? [] : sandbox.receiver.messages.filter((m) => m.kind !== 'response');
    if (posted.length > 0) {
      print(`\n── #prod-ops (${SANDBOX_SLACK.channel}), as the service posted it ──`);
      for (const m of posted) {
        // as a terminal shows it: no emoji codes
        const lines = m.text.split('\n').map(plainWords).map((line, i) => (m.threadTs && line ? `${i === 0 ? '  ↳ ' : '    '}${line}` : line));
        print(`\n${lines.join('\n')}`);
      }
    }
    return exitCodeOf(result);
  } finally {
    await sandbox.stop();
  }
}
