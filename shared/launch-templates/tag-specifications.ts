/**
 * Ownership tags on what the launch template creates: `kubernetes.io/cluster/<name>=owned`
 * on instances and volumes (what the cloud provider and our ownership checks look for).
 * The user's other tags and specifications are kept; applying it twice changes nothing.
 */
import type { TaggableResourceType, TemplateTagSpecification } from '../aws/launch-template-versions.js';

const OWNED_RESOURCE_TYPES: readonly TaggableResourceType[] = ['instance', 'volume'];

export function ownershipTagKey(clusterName: string): string {
  return `kubernetes.io/cluster/${clusterName}`;
}

export function withOwnershipTags(
  tagSpecifications: readonly TemplateTagSpecification[] | undefined,
  cluster: string | { name: string },
): TemplateTagSpecification[] {
  const key = ownershipTagKey(typeof cluster === 'string' ? cluster : cluster.name);
  const specs = (tagSpecifications ?? []).map((s) => ({ ...s, Tags: [...(s.Tags ?? [])] }));
  for (const resourceType of OWNED_RESOURCE_TYPES) {
    const spec = specs.find((s) => s.ResourceType === resourceType);
    if (!spec) {
      specs.push({ ResourceType: resourceType, Tags: [{ Key: key, Value: 'owned' }] });
      continue;
    }
    const at = spec.Tags.findIndex((t) => t.Key === key);
    if (at < 0) spec.Tags.push({ Key: key, Value: 'owned' });
    else spec.Tags[at] = { Key: key, Value: 'owned' };
  }
  return specs;
}
