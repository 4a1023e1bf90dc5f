/** The contract suite against the sandbox (test/sim); see README.md. */
import { defineContract } from './aws-contract.js';
import { sandboxTargets } from './sandbox-target.js';

defineContract(sandboxTargets());
