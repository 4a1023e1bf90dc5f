/**
 * Line-level edits of the user's scripts: find the commands that bootstrap a node or start
 * the kubelet, so they can be replaced (full-bootstrap) or dropped (eks-merges), and leave
 * every other line exactly as the user wrote it.
 */

/** Physical lines grouped into commands, following line continuations. */
export function commands(script: string, continuation: '\\' | '`'): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  for (const line of script.split('\n')) {
    current.push(line);
    if (!line.replace(/\r$/, '').endsWith(continuation)) {
      groups.push(current);
      current = [];
    }
  }
  if (current.length) groups.push(current);
  return groups;
}

const LINUX_KUBELET_STARTERS: readonly RegExp[] = [
  /\/etc\/eks\/bootstrap\.sh\b/,
  /\bnodeadm\s+init\b/,
  /\bsystemctl\s+(?:start|restart|enable\s+--now)\s+kubelet\b/,
];

const WINDOWS_KUBELET_STARTERS: readonly RegExp[] = [
  /Start-EKSBootstrap\.ps1/i,
  /\$EKSBootstrapScriptFile\b/i,
  /\bStart-Service\s+kubelet\b/i,
];

function isComment(line: string): boolean {
  return line.trim().startsWith('#');
}

function stripCommands(script: string, continuation: '\\' | '`', starters: readonly RegExp[]): string {
  return commands(script, continuation)
    .filter((group) => !starters.some((re) => group.some((line) => !isComment(line) && re.test(line))))
    .flat()
    .join('\n');
}

/** The shell script without the commands that bootstrap the node or start the kubelet. */
export function stripLinuxKubeletStarters(script: string): string {
  return stripCommands(script, '\\', LINUX_KUBELET_STARTERS);
}

/** The PowerShell without Start-EKSBootstrap.ps1 (its path variable included) or kubelet starts. */
export function stripWindowsKubeletStarters(script: string): string {
  return stripCommands(script, '`', WINDOWS_KUBELET_STARTERS);
}

export function startsLinuxKubelet(script: string): boolean {
  return stripLinuxKubeletStarters(script) !== script;
}

export function startsWindowsKubelet(script: string): boolean {
  return stripWindowsKubeletStarters(script) !== script;
}

/** A script left with nothing but a shebang, comments, `set` options and blank lines. */
export function isEmptyScript(script: string): boolean {
  return script.split('\n').every((line) => line.trim() === '' || isComment(line) || /^\s*set\s+[-+]/.test(line));
}

/** Shell words of one command, with single and double quotes removed (no expansion). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\\.)|(\s+)|([^\s'"\\]+)/g;
  let current: string | undefined;
  for (const m of text.matchAll(re)) {
    if (m[4] !== undefined) {
      if (current !== undefined) words.push(current);
      current = undefined;
      continue;
    }
    const piece = m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]?.slice(1) ?? m[5] ?? '';
    current = (current ?? '') + piece;
  }
  if (current !== undefined) words.push(current);
  return words;
}
