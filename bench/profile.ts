// `--profile`: count and time every SQL statement this process sends (Skein in-process included),
// per scenario, to see where a step transition spends its time. Off by default: it adds overhead.
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

interface Stat {
  count: number;
  ms: number;
}

let stats: Map<string, Stat> | null = null;
let installed = false;

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 110);
}

export function installProfiler(): void {
  if (installed) return;
  installed = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function patched(this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: string } | null)?.text;
    const result = original.apply(this, args);
    if (stats && text && result && typeof (result as Promise<unknown>).then === 'function') {
      const key = normalize(text);
      const t0 = performance.now();
      const record = () => {
        const s = stats?.get(key) ?? { count: 0, ms: 0 };
        s.count++;
        s.ms += performance.now() - t0;
        stats?.set(key, s);
      };
      (result as Promise<unknown>).then(record, record);
    }
    return result;
  };
}

/**
 * CPU time (user + system, ms) of the PostgreSQL backends serving `database` (their process
 * titles name it), from /proc: with this process's own CPU it gives the cost of a scenario in CPU
 * per step, which wall time on a loaded machine does not. Backends that ended meanwhile are lost.
 */
function postgresCpuMs(database: string): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${database} `)) continue;
      const fields = stat.slice(close + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

let cpuAtStart: { node: NodeJS.CpuUsage; pg: number; wall: number; database: string } | null = null;

/** Start counting statements, and CPU of this process and of `database`'s backends. */
export function startProfile(database: string): void {
  stats = new Map();
  cpuAtStart = { node: process.cpuUsage(), pg: postgresCpuMs(database), wall: performance.now(), database };
}

/** Stop counting; return the statements by total time, with counts per step when `steps` is given. */
export function endProfile(label: string, steps: number): string {
  const s = stats ?? new Map<string, Stat>();
  stats = null;
  const rows = [...s.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((n, [, v]) => n + v.count, 0);
  const totalMs = rows.reduce((n, [, v]) => n + v.ms, 0);
  const lines = [`-- SQL profile: ${label}: ${total} statements (${(total / steps).toFixed(1)} per step), ${Math.round(totalMs)} ms summed latency`];
  if (cpuAtStart) {
    const node = process.cpuUsage(cpuAtStart.node);
    const nodeMs = (node.user + node.system) / 1000;
    const pgMs = postgresCpuMs(cpuAtStart.database) - cpuAtStart.pg;
    const wall = performance.now() - cpuAtStart.wall;
    lines.push(`   CPU: bench process (Skein in it) ${Math.round(nodeMs)} ms = ${(nodeMs / steps).toFixed(3)} ms/step; its PostgreSQL backends ${pgMs} ms = ${(pgMs / steps).toFixed(3)} ms/step; wall ${Math.round(wall)} ms`);
    cpuAtStart = null;
  }
  for (const [sql, v] of rows.slice(0, 25)) {
    lines.push(`${String(v.count).padStart(7)} ${(v.count / steps).toFixed(2).padStart(6)}/step ${v.ms.toFixed(0).padStart(7)} ms ${(v.ms / v.count).toFixed(2).padStart(6)} ms/q  ${sql}`);
  }
  return lines.join('\n');
}
