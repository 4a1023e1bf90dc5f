'use strict';

const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * Which functions talk to clusters: a handler does when it, or a functions/lib module it
 * imports, builds `new KubeClients(`. Read from the source, so a new Kubernetes-facing function
 * is found without anyone listing it. One rule for everything that follows from it: the VPC
 * placement (vpc.cjs), the access entries of grant-access.sh (test/unit/kubernetes-rbac.test.ts).
 *
 * @param {string} root the project root
 * @param {string} module the handler's module, relative to the root, without extension (functions/drain-step)
 */
function buildsKubeClients(root, module) {
  const file = join(root, `${module}.ts`);
  if (!existsSync(file)) return false;
  const source = readFileSync(file, 'utf8');
  const libs = [...source.matchAll(/from '\.\/lib\/([\w-]+)\.js'/g)].map((m) => join(root, 'functions/lib', `${m[1]}.ts`));
  return /new KubeClients\(/.test(source) || libs.some((lib) => /new KubeClients\(/.test(readFileSync(lib, 'utf8')));
}

/** `functions/drain-step.handler` → `functions/drain-step` */
function handlerModule(handler) {
  const text = String(handler);
  return text.slice(0, text.lastIndexOf('.'));
}

module.exports = { buildsKubeClients, handlerModule };
