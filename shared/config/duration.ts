/** `90s`, `15m`, `3h`, `1h30m`, `7d` → seconds; undefined when it is not a duration. */
export function parseDurationSeconds(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+[smhd])+$/.test(trimmed)) return undefined;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
  let total = 0;
  for (const [, amount, u] of trimmed.matchAll(/(\d+)([smhd])/g)) total += Number(amount) * unit[u!]!;
  return total;
}

/** Seconds as the tags write them: `7d`, `36h`, `15m`, `90s` (the largest unit that divides them). */
export function describeSeconds(seconds: number): string {
  return seconds % 86_400 === 0 ? `${seconds / 86_400}d` : seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}
