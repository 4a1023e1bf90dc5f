/**
 * Benchmark: `npm start` wall time — what an operator waits for the sandbox's main job
 * (scripts/simulate.ts), from the command to its exit, measured as they would run it.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StartFigures {
  wallMs: number;
  exitCode: number | null;
  /** the job's last line of output, as a sanity check that it did its work */
  lastLine: string;
}

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

export function benchStart(): StartFigures {
  const started = process.hrtime.bigint();
  const run = spawnSync('npm', ['start', '--silent'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const lines = `${run.stdout ?? ''}`.trim().split('\n');
  return { wallMs, exitCode: run.status, lastLine: lines[lines.length - 1] ?? '' };
}

export function renderStart(figures: StartFigures): string {
  return `
## \`npm start\`

The sandbox's main job, run as an operator runs it (\`npm start\`: npm, tsx, the simulated
account and cluster, the real workflows), from the command to its exit.

| | |
|---|---|
| **wall time** | **${(figures.wallMs / 1000).toFixed(1)} s** |
| exit code | ${figures.exitCode} |
| last line | ${figures.lastLine.replace(/\|/g, '\\|').slice(0, 160)} |
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(renderStart(benchStart()));
}
