/**
 * YAML read with the `yaml` package, imported on first use: for bundles that carry it anyway
 * (the preflight renders the AL2023 NodeConfig through its comment-keeping Document API).
 * Its twin read-js-yaml.ts reads the same YAML 1.2 core schema with js-yaml, for bundles that
 * would otherwise carry `yaml` for one list (≈ 115 KB against js-yaml's ≈ 60 KB). Each lives in a
 * module of its own: a bundle that imports one never carries the other.
 */
export async function readYaml(text: string): Promise<unknown> {
  return (await import('yaml')).parse(text);
}
