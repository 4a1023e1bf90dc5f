/**
 * EventBridge event pattern matching (the content-filter subset AWS documents): exact
 * values, prefix, suffix, anything-but, exists, numeric, equals-ignore-case, wildcard, and
 * nested objects. An array in the event matches when any element matches.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  if (event === null || typeof event !== 'object') return false;
  return Object.entries(pattern).every(([key, rule]) => {
    const value = (event as Record<string, unknown>)[key];
    if (Array.isArray(rule)) return matchesAny(rule, value);
    if (rule && typeof rule === 'object') return value !== undefined && matchesPattern(rule as Record<string, unknown>, value);
    throw new Error(`event pattern: ${key} must be an array or an object`);
  });
}

function matchesAny(rules: unknown[], value: unknown): boolean {
  const candidates = Array.isArray(value) ? value : [value];
  return rules.some((rule) => {
    if (rule && typeof rule === 'object' && !Array.isArray(rule)) {
      const [op, arg] = Object.entries(rule)[0] ?? [];
      if (op === 'exists') return arg ? value !== undefined : value === undefined;
      return value !== undefined && candidates.some((c) => matchesOperator(op!, arg, c));
    }
    return candidates.some((c) => c === rule);
  });
}

function matchesOperator(op: string, arg: unknown, value: unknown): boolean {
  switch (op) {
    case 'prefix':
      return typeof value === 'string' && typeof arg === 'string' && value.startsWith(arg);
    case 'suffix':
      return typeof value === 'string' && typeof arg === 'string' && value.endsWith(arg);
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && typeof arg === 'string' && wildcard(arg).test(value);
    case 'anything-but': {
      if (Array.isArray(arg)) return !arg.includes(value);
      if (arg && typeof arg === 'object') {
        const [inner, innerArg] = Object.entries(arg)[0] ?? [];
        return !matchesOperator(inner!, innerArg, value);
      }
      return value !== arg;
    }
    case 'numeric': {
      if (typeof value !== 'number' || !Array.isArray(arg)) return false;
      for (let i = 0; i + 1 < arg.length; i += 2) {
        const [cmp, n] = [arg[i] as string, arg[i + 1] as number];
        const ok =
          cmp === '=' ? value === n : cmp === '<' ? value < n : cmp === '<=' ? value <= n : cmp === '>' ? value > n : cmp === '>=' ? value >= n : false;
        if (!ok) return false;
      }
      return true;
    }
    default:
      throw new Error(`event pattern: unsupported operator ${op}`);
  }
}

function wildcard(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
