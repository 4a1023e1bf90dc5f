/**
 * `npm run sandbox [-- --speed N]`: a sandbox world that keeps running — cluster prod (managed
 * group `system`, self-managed group `prod-workers`, apps behind PodDisruptionBudgets), scaled
 * out and in, with a new AL2023 release published and not yet rolled — its virtual clock moving
 * N virtual seconds per real second (default 30). Drive it with the CLI and kubectl:
 *
 *   npx eks-node-lifecycle --sandbox rollout prod/prod-workers --now
 *   kubectl --kubeconfig .sandbox/kubeconfig get nodes
 *
 * Ctrl-C stops it.
 */
import { storyHeader, tellAsItHappens } from '@eks-node-lifecycle/sandbox';
import { startPersistentSandbox } from './sandbox-server.js';
import { sandboxDir } from './sandbox-connection.js';

const speedArg = process.argv.indexOf('--speed');
const speed = speedArg >= 0 ? Number(process.argv[speedArg + 1]) : 30;
if (!(speed > 0)) {
  console.error(`usage: npm run sandbox [-- --speed <virtual seconds per real second>] (got --speed ${process.argv[speedArg + 1]})`);
  process.exit(2);
}

console.log(`starting the sandbox (the default scenario up to a new AMI release) …`);
const sandbox = await startPersistentSandbox({ speed, dir: sandboxDir() });
const { world } = sandbox;
for (const line of storyHeader(world)) console.log(line);
tellAsItHappens(world.timeline, (line) => console.log(line));
let posted = sandbox.posted().length;
const showPosts = setInterval(() => {
  const messages = sandbox.posted();
  for (const m of messages.slice(posted)) console.log(`${m.threadTs ? '  ↳ ' : ''}#prod-ops: ${m.text.split('\n').join('\n    ')}`);
  posted = messages.length;
}, 250);
console.log(`\nsandbox running at ${speed} virtual s per real s (virtual time ${world.clock.iso()}); a new AL2023 release is published, not yet rolled`);
console.log(`  npx eks-node-lifecycle --sandbox status prod`);
console.log(`  npx eks-node-lifecycle --sandbox rollout prod/prod-workers --now`);
console.log(`  kubectl --kubeconfig ${sandbox.kubeconfig} get nodes`);
console.log(`(CLI endpoint in ${sandboxDir()}/endpoint.json; the kubeconfig's token is re-minted every 5 virtual minutes; Ctrl-C to stop)\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(showPosts);
  try {
    await sandbox.stop();
    process.exit(0);
  } catch (error) {
    console.error(`the sandbox stopped with an error: ${(error as Error).message}`);
    process.exit(1);
  }
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
