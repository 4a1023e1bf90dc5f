/** YAML read with js-yaml, imported on first use: see read-yaml.ts for why there are two. */
export async function readJsYaml(text: string): Promise<unknown> {
  return (await import('js-yaml')).load(text);
}
