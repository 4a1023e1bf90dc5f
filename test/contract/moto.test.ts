/** The contract suite against moto (over HTTP, real SDK clients); see README.md. */
import { after } from 'node:test';
import { defineContract } from './aws-contract.js';
import { motoTargets } from './moto-target.js';

const moto = motoTargets();
defineContract(moto);
after(() => moto.shutdown());
