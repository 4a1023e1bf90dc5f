/**
 * `npm run sandbox`: runs the default scenario, then keeps the sandbox up so that `kubectl`
 * (or anything else) can talk to its Kubernetes API. Ctrl-C stops it.
 *
 *   kubectl --kubeconfig .sandbox/kubeconfig get nodes
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDefaultScenario } from '../test/sim/scenarios.js';
import { World } from '../test/sim/world.js';

const world = await World.start();
await runDefaultScenario(world);
const path = await world.writeKubeconfig('prod');
const stable = join(process.cwd(), '.sandbox', 'kubeconfig');
copyFileSync(path, stable);
console.log(`sandbox running: cluster prod at ${world.cluster('prod').endpoint}`);
console.log(`  kubectl --kubeconfig ${stable} get nodes`);
console.log(`  kubectl --kubeconfig ${stable} get pods -A`);
console.log('(the virtual clock stands still while nobody acts, so the token in the kubeconfig stays valid; Ctrl-C to stop)');
const stop = async () => {
  await world.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => undefined, 1 << 30);
