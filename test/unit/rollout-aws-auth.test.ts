import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findRoleMapping } from '../../shared/rollout/aws-auth.js';
import { readJsYaml } from '../../shared/yaml/read-js-yaml.js';
import { readYaml } from '../../shared/yaml/read-yaml.js';

const YAML_READERS = { yaml: readYaml, jsYaml: readJsYaml };

const ROLE = 'arn:aws:iam::111122223333:role/web-node';

/** aws-auth's mapRoles as eksctl, the EKS getting-started guide, Terraform's yamlencode and people write it. */
const CORPUS: Record<string, string> = {
  eksctl: `- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: ${ROLE}\n  username: system:node:{{EC2PrivateDNSName}}\n`,
  'eks guide (indented)': `    - rolearn: ${ROLE}\n      username: system:node:{{EC2PrivateDNSName}}\n      groups:\n        - system:bootstrappers\n        - system:nodes\n`,
  'terraform yamlencode (quoted)': `"- \\"groups\\":\\n  - \\"system:bootstrappers\\"\\n"`.length ? `- "groups":\n  - "system:bootstrappers"\n  - "system:nodes"\n  "rolearn": "${ROLE}"\n  "username": "system:node:{{EC2PrivateDNSName}}"\n` : '',
  'flow style': `[{rolearn: "${ROLE}", username: "system:node:{{EC2PrivateDNSName}}", groups: [system:bootstrappers, system:nodes]}]\n`,
  'with comments and a second entry': `# nodes\n- rolearn: arn:aws:iam::111122223333:role/other # another group\n  username: admin\n  groups: [system:masters]\n- rolearn: '${ROLE}'\n  username: 'system:node:{{EC2PrivateDNSName}}'\n  groups:\n    - system:nodes\n`,
  'document marker': `---\n- rolearn: ${ROLE}\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: []\n`,
  'a path in the ARN': `- rolearn: arn:aws:iam::111122223333:role/team/web-node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:nodes]\n`,
  'anchors': `- &node\n  rolearn: ${ROLE}\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:nodes]\n- <<: *node\n  rolearn: arn:aws:iam::111122223333:role/other\n`,
};

describe('aws-auth: the two YAML readers read mapRoles alike', () => {
  for (const [name, text] of Object.entries(CORPUS)) {
    it(`${name}: the same data and the same mapping`, async () => {
      assert.deepEqual(await YAML_READERS.jsYaml(text), await YAML_READERS.yaml(text));
      for (const role of [ROLE, 'arn:aws:iam::111122223333:role/team/web-node', 'arn:aws:iam::111122223333:role/nobody']) {
        assert.deepEqual(await findRoleMapping(text, role, YAML_READERS.jsYaml), await findRoleMapping(text, role, YAML_READERS.yaml), role);
      }
    });
  }

  it('the mapping is found whichever reads it (not a vacuous equality)', async () => {
    for (const read of [YAML_READERS.yaml, YAML_READERS.jsYaml]) {
      assert.deepEqual(await findRoleMapping(CORPUS['eksctl'], ROLE, read), { mapping: { rolearn: ROLE, username: 'system:node:{{EC2PrivateDNSName}}', groups: ['system:bootstrappers', 'system:nodes'] } });
    }
  });

  it('both refuse what is not a list, and YAML that does not parse', async () => {
    for (const read of [YAML_READERS.yaml, YAML_READERS.jsYaml]) {
      await assert.rejects(findRoleMapping('rolearn: x', ROLE, read), /not a list/);
      await assert.rejects(findRoleMapping('- rolearn: [unclosed', ROLE, read));
    }
  });

  it('generated entries, in block or flow style, plain or quoted: the same data', async () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9:./{}@_-]{0,30}$/);
    const entry = fc.record({ rolearn: word.map((w) => `arn:aws:iam::111122223333:role/${w.replace(/[{}:]/g, '')}`), username: word, groups: fc.array(word, { maxLength: 3 }) });
    const quote = (s: string, q: boolean) => (q ? JSON.stringify(s) : s);
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.boolean(), async (entries, flow, quoted) => {
        const text = flow
          ? `[${entries.map((e) => `{rolearn: ${JSON.stringify(e.rolearn)}, username: ${JSON.stringify(e.username)}, groups: [${e.groups.map((g) => JSON.stringify(g)).join(', ')}]}`).join(', ')}]`
          : entries.map((e) => `- rolearn: ${quote(e.rolearn, quoted)}\n  username: ${quote(e.username, true)}\n  groups:${e.groups.length ? `\n${e.groups.map((g) => `    - ${quote(g, true)}`).join('\n')}` : ' []'}`).join('\n');
        assert.deepEqual(await YAML_READERS.jsYaml(text), await YAML_READERS.yaml(text));
      }),
      { numRuns: 200 },
    );
  });
});
