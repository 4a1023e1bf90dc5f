'use strict';

/**
 * A Serverless variable source, `${required:<param>}`: the param's value (from
 * `--param="<param>=…"` or the stage's params), and for a param that nobody set, a stop before
 * anything is built that says what to pass. `${param:<param>}` would stop too, but with
 * "Value not found at "param" source" and no word of what the param is for.
 */
const WHY = {
  managedClusters:
    'managedClusters has no default: name the clusters this deployment looks after, e.g. ' +
    '--param="managedClusters=prod,staging" (or in serverless.yml: params: <stage>: managedClusters: prod), ' +
    'or write --param="managedClusters=*" to look after every EKS cluster of the account and region',
};

class RequiredParams {
  constructor(serverless) {
    // the framework's own error class: it prints the message alone, no stack
    const ServerlessError = serverless.classes.Error;
    this.configurationVariablesSources = {
      required: {
        async resolve({ address, resolveVariable }) {
          const value = await resolveVariable(`param:${address}, null`);
          if (value !== null && value !== undefined && String(value).trim() !== '') return { value };
          throw new ServerlessError(WHY[address] ?? `the param ${address} has no default: pass --param="${address}=…"`, 'REQUIRED_PARAM_MISSING');
        },
      },
    };
  }
}

module.exports = RequiredParams;
