#!/usr/bin/env node
// `npx eks-node-lifecycle <command>`: the CLI runs the TypeScript sources through tsx, as the
// npm scripts do (the project ships no build step).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../scripts/cli.ts');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`eks-node-lifecycle: ${error?.name ?? 'Error'}: ${error?.message ?? error}`);
  process.exitCode = 1;
}
