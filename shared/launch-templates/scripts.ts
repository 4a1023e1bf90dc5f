import { parse as parseShell } from 'shell-quote';

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

/**
 * The script with its first bootstrap command replaced, in place and at its indentation, by
 * `replacement` (any other kubelet start dropped), so the variables the user set before it and
 * the commands after it stay around it; undefined when it runs none.
 */
function replaceFirstBootstrap(script: string, continuation: '\\' | '`', starters: readonly RegExp[], bootstraps: readonly RegExp[], replacement: string): string | undefined {
  let replaced = false;
  const groups = commands(script, continuation).flatMap((group) => {
    const live = group.filter((line) => !isComment(line));
    if (!starters.some((re) => live.some((line) => re.test(line)))) return group;
    if (replaced || !bootstraps.some((re) => live.some((line) => re.test(line)))) return [];
    replaced = true;
    const indent = /^\s*/.exec(live[0]!)![0];
    return replacement.split('\n').map((line) => `${indent}${line}`);
  });
  return replaced ? groups.join('\n') : undefined;
}

/** The shell script with its first /etc/eks/bootstrap.sh command replaced where it stands (see replaceFirstBootstrap). */
export function replaceLinuxBootstrap(script: string, replacement: string): string | undefined {
  return replaceFirstBootstrap(script, '\\', LINUX_KUBELET_STARTERS, LINUX_KUBELET_STARTERS.slice(0, 1), replacement);
}

/** The PowerShell with its first Start-EKSBootstrap.ps1 line (the script path's variable, or the call) replaced where it stands. */
export function replaceWindowsBootstrap(script: string, replacement: string): string | undefined {
  return replaceFirstBootstrap(script, '`', WINDOWS_KUBELET_STARTERS, WINDOWS_KUBELET_STARTERS.slice(0, 2), replacement);
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

/**
 * Shell words of one command as POSIX sh splits them (shell-quote's parser: single and double
 * quotes, backslash escapes, `'\\''`), stopping at the first operator (`&&`, `|`, `;`,
 * a redirection) or comment. Expansions are not performed: `$VAR` and `${VAR}` come back as
 * `${VAR}`, for the node's shell to expand.
 */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  const entries = parseShell(text, (name) => `\${${name}}`);
  for (const [i, entry] of entries.entries()) {
    if (typeof entry === 'string') {
      // `2>&1`: the descriptor before a redirection is not a word
      const next = entries[i + 1];
      if (/^\d+$/.test(entry) && typeof next === 'object' && 'op' in next && /^[<>]/.test(next.op)) break;
      words.push(entry);
    } else if ('op' in entry && entry.op === 'glob') {
      words.push(entry.pattern);
    } else {
      break;
    }
  }
  return words;
}

/**
 * A word as the shell reads it back to the same text: bare when it can be, double-quoted when it
 * holds an expansion (so the node still expands it), single-quoted otherwise.
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_\-.:/=+@,%]+$/.test(word)) return word;
  if (word.includes('$')) return `"${word.replace(/["\\`]/g, '\\$&')}"`;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
