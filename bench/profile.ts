// `--profile`: count and time every SQL statement this process sends (Skein in-process included),
// per scenario, to see where a step transition spends its time. Off by default: it adds overhead.
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

export function startProfile(): void {
  stats = new Map();
}

/** Stop counting; return the statements by total time, with counts per step when `steps` is given. */
export function endProfile(label: string, steps: number): string {
  const s = stats ?? new Map<string, Stat>();
  stats = null;
  const rows = [...s.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((n, [, v]) => n + v.count, 0);
  const totalMs = rows.reduce((n, [, v]) => n + v.ms, 0);
  const lines = [`-- SQL profile: ${label}: ${total} statements (${(total / steps).toFixed(1)} per step), ${Math.round(totalMs)} ms summed latency`];
  for (const [sql, v] of rows.slice(0, 25)) {
    lines.push(`${String(v.count).padStart(7)} ${(v.count / steps).toFixed(2).padStart(6)}/step ${v.ms.toFixed(0).padStart(7)} ms ${(v.ms / v.count).toFixed(2).padStart(6)} ms/q  ${sql}`);
  }
  return lines.join('\n');
}
