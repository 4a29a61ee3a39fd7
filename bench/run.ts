// `npm run bench [-- --quick] [-- --profile] [-- --only=baselines,engine,api]`
//
// Runs every scenario against the local Postgres and Redis (each part on a database of its own,
// dropped afterwards), prints a table with PASS/MISS against the floor targets, and writes
// bench/results/latest.json. Progress goes to stderr; the table to stdout.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiScenarios, type ApiResult, type ApiSizes } from './api.js';
import { bullmqBaseline, pgBossBaseline, type BullmqResult, type PgBossResult } from './baselines.js';
import { CONCURRENCY, machineInfo, note, ROOT, round } from './lib.js';
import { installProfiler } from './profile.js';
import { skeinScenarios, type SkeinResult, type SkeinSizes } from './skein.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const enabled = (part: string) => !only || only.includes(part);

interface Sizes {
  pgBoss: { jobs: number; settings: { loops: number; batchSize: number }[] };
  bullmq: { chainLength: number; chainRepeats: number; width: number; flows: number; flowSize: number };
  skein: SkeinSizes;
  api: ApiSizes;
}

const SIZES: Sizes = quick
  ? {
      pgBoss: { jobs: 5_000, settings: [{ loops: 2, batchSize: 100 }] },
      bullmq: { chainLength: 100, chainRepeats: 1, width: 300, flows: 50, flowSize: 20 },
      skein: { chainLength: 100, chainRepeats: 1, width: 300, runs: 50, diamondSize: 20, dagNodes: 300 },
      api: { subscriberCounts: [1, 100, 1000], eventChainLength: 10, eventStepMs: 50, startRuns: 200, width: 300 },
    }
  : {
      pgBoss: { jobs: 20_000, settings: [{ loops: 1, batchSize: 100 }, { loops: 2, batchSize: 100 }, { loops: 4, batchSize: 100 }, { loops: 2, batchSize: 500 }] },
      bullmq: { chainLength: 100, chainRepeats: 5, width: 1000, flows: 50, flowSize: 20 },
      skein: { chainLength: 100, chainRepeats: 5, width: 1000, runs: 50, diamondSize: 20, dagNodes: 1000 },
      api: { subscriberCounts: [1, 100, 1000], eventChainLength: 20, eventStepMs: 50, startRuns: 1000, width: 1000 },
    };

type Verdict = { floor?: (v: number) => boolean; goal?: (v: number) => boolean; floorText?: string; goalText?: string };

interface Row {
  key: string;
  label: string;
  value: number | null;
  unit: string;
  verdict?: Verdict;
}

async function section<T>(name: string, fn: () => Promise<T>, errors: string[]): Promise<T | null> {
  if (!enabled(name)) return null;
  try {
    return await fn();
  } catch (err) {
    const message = `${name}: ${(err as Error).stack ?? String(err)}`;
    errors.push(message);
    note(`FAILED ${message}`);
    return null;
  }
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  if (profile) installProfiler();
  const machine = await machineInfo();
  note(`${quick ? 'quick' : 'full'} run on ${machine.cores} cores, ${machine.memoryGb} GiB, node ${machine.node}, postgres ${machine.postgres}, redis ${machine.redis}`);
  const errors: string[] = [];

  const pgBoss: PgBossResult | null = await section('baselines', () => pgBossBaseline(SIZES.pgBoss), errors);
  const bullmq: BullmqResult | null = await section('baselines', () => bullmqBaseline(SIZES.bullmq), errors);
  const skein: SkeinResult | null = await section('engine', () => skeinScenarios(SIZES.skein, profile), errors);
  const api: ApiResult | null = await section('api', () => apiScenarios(SIZES.api), errors);

  const bestSkein = skein ? Math.max(skein.wide.stepsPerSec, skein.concurrent.stepsPerSec) : null;
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null ? a / b : null);
  const n = (v: number | null | undefined, digits = 2) => (v == null || !Number.isFinite(v) ? null : round(v, digits));

  const result = {
    startedAt,
    quick,
    machine: { cores: machine.cores, memoryGb: machine.memoryGb, node: machine.node, postgres: machine.postgres, redis: machine.redis, pgBoss: machine.pgBoss, bullmq: machine.bullmq, loadAvg1m: machine.loadAvg1m },
    chain: { p50Ms: n(skein?.chain.p50Ms), p95Ms: n(skein?.chain.p95Ms), p99Ms: n(skein?.chain.p99Ms) },
    wide: { stepsPerSec: n(skein?.wide.stepsPerSec, 0), wallMs: n(skein?.wide.wallMs, 0) },
    concurrent: { stepsPerSec: n(skein?.concurrent.stepsPerSec, 0) },
    baseline: {
      pgBossJobsPerSec: n(pgBoss?.jobsPerSec, 0),
      bullmq: { chain: n(bullmq?.chainMsPerStep), wide: n(bullmq?.wideStepsPerSec, 0), concurrent: n(bullmq?.concurrentStepsPerSec, 0) },
    },
    ratio: {
      vsPgBoss: n(ratio(bestSkein, pgBoss?.jobsPerSec), 3),
      vsBullmq: {
        // Speed ratios, Skein ÷ BullMQ: for the chain, BullMQ ms per step ÷ Skein ms per step.
        chain: n(ratio(bullmq?.chainMsPerStep, skein?.chain.msPerStep), 3),
        wide: n(ratio(skein?.wide.stepsPerSec, bullmq?.wideStepsPerSec), 3),
        concurrent: n(ratio(skein?.concurrent.stepsPerSec, bullmq?.concurrentStepsPerSec), 3),
      },
    },
    dag1000: { totalMs: n(skein?.dag.totalMs, 0) },
    events: Object.fromEntries(SIZES.api.subscriberCounts.map((c) => [`subs${c}`, { p50Ms: n(api?.events[`subs${c}`]?.p50Ms), p99Ms: n(api?.events[`subs${c}`]?.p99Ms) }])),
    startRun: { p50Ms: n(api?.startRun.p50Ms), p99Ms: n(api?.startRun.p99Ms) },
    events10k: { queryMs: n(api?.events10k.queryMs, 1) },
    rssMb: { api: n(api?.rssMb.api, 0), worker: n(api?.rssMb.worker, 0) },
  };

  const le = (limit: number) => (v: number) => v <= limit;
  const lt = (limit: number) => (v: number) => v < limit;
  const ge = (limit: number) => (v: number) => v >= limit;
  const s = SIZES;
  const rows: Row[] = [
    { key: 'chain.p50Ms', label: `(a) chain of ${s.skein.chainLength} ×${s.skein.chainRepeats}: handler returns → dependent's handler starts, p50`, value: result.chain.p50Ms, unit: 'ms', verdict: { floor: le(10), floorText: '≤ 10', goal: le(3), goalText: '≤ 3' } },
    { key: 'chain.p95Ms', label: '(a) … p95', value: result.chain.p95Ms, unit: 'ms' },
    { key: 'chain.p99Ms', label: '(a) … p99', value: result.chain.p99Ms, unit: 'ms', verdict: { floor: le(50), floorText: '≤ 50' } },
    { key: '', label: '(a) … ms per step, start to end of the chain', value: n(skein?.chain.msPerStep), unit: 'ms' },
    { key: 'wide.stepsPerSec', label: `(b) wide 1 → ${s.skein.width} → 1: throughput`, value: result.wide.stepsPerSec, unit: 'steps/s', verdict: { floor: ge(1000), floorText: '≥ 1,000', goal: ge(5000), goalText: '≥ 5,000' } },
    { key: 'wide.wallMs', label: '(b) … wall time', value: result.wide.wallMs, unit: 'ms' },
    { key: 'concurrent.stepsPerSec', label: `(c) ${s.skein.runs} concurrent diamonds of ${s.skein.diamondSize}`, value: result.concurrent.stepsPerSec, unit: 'steps/s', verdict: { floor: ge(1000), floorText: '≥ 1,000', goal: ge(5000), goalText: '≥ 5,000' } },
    { key: 'dag1000.totalMs', label: `(d) random DAG of ${s.skein.dagNodes} (depth ${skein?.dag.depth ?? '?'}): register + run to done`, value: result.dag1000.totalMs, unit: 'ms', verdict: { floor: lt(3000), floorText: '< 3,000' } },
    ...s.api.subscriberCounts.flatMap((c): Row[] => [
      { key: `events.subs${c}.p50Ms`, label: `(e) event delay, ${c} SSE subscriber(s): p50`, value: result.events[`subs${c}`].p50Ms, unit: 'ms' },
      {
        key: `events.subs${c}.p99Ms`,
        label: '(e) … p99',
        value: result.events[`subs${c}`].p99Ms,
        unit: 'ms',
        verdict: c === 100 ? { floor: le(50), floorText: '≤ 50' } : c === 1000 ? { floor: le(100), floorText: '≤ 100' } : undefined,
      },
    ]),
    { key: 'startRun.p50Ms', label: `(f) startRun over GraphQL, ${s.api.startRuns} calls: p50`, value: result.startRun.p50Ms, unit: 'ms' },
    { key: 'startRun.p99Ms', label: '(f) … p99', value: result.startRun.p99Ms, unit: 'ms', verdict: { floor: le(20), floorText: '≤ 20' } },
    { key: 'events10k.queryMs', label: '(g) run.events, 10,000 events (GraphQL, median of 5)', value: result.events10k.queryMs, unit: 'ms', verdict: { floor: lt(50), floorText: '< 50' } },
    { key: 'rssMb.api', label: '(h) peak RSS, API process (VmHWM)', value: result.rssMb.api, unit: 'MB' },
    { key: 'rssMb.worker', label: '(h) peak RSS, worker process (VmHWM)', value: result.rssMb.worker, unit: 'MB' },
    { key: 'baseline.pgBossJobsPerSec', label: `raw pg-boss: ${s.pgBoss.jobs} no-op jobs, fetch+complete loops (best: ${pgBoss ? `${pgBoss.best.loops} × batch ${pgBoss.best.batchSize}` : '?'})`, value: result.baseline.pgBossJobsPerSec, unit: 'jobs/s' },
    { key: 'baseline.bullmq.chain', label: `BullMQ flow chain of ${s.bullmq.chainLength}`, value: result.baseline.bullmq.chain, unit: 'ms/step' },
    { key: 'baseline.bullmq.wide', label: `BullMQ parent + ${s.bullmq.width} children`, value: result.baseline.bullmq.wide, unit: 'steps/s' },
    { key: 'baseline.bullmq.concurrent', label: `BullMQ ${s.bullmq.flows} flows × ${s.bullmq.flowSize}`, value: result.baseline.bullmq.concurrent, unit: 'steps/s' },
    { key: 'ratio.vsPgBoss', label: 'ratio: Skein best of (b)/(c) steps/s ÷ pg-boss jobs/s', value: result.ratio.vsPgBoss, unit: '×', verdict: { goal: ge(0.5), goalText: '≥ 0.5' } },
    { key: 'ratio.vsBullmq.chain', label: 'ratio: Skein ÷ BullMQ, chain (speed: BullMQ ms/step ÷ Skein ms/step)', value: result.ratio.vsBullmq.chain, unit: '×', verdict: { goal: ge(1), goalText: '≥ 1' } },
    { key: 'ratio.vsBullmq.wide', label: 'ratio: Skein ÷ BullMQ, wide', value: result.ratio.vsBullmq.wide, unit: '×', verdict: { goal: ge(1), goalText: '≥ 1' } },
    { key: 'ratio.vsBullmq.concurrent', label: 'ratio: Skein ÷ BullMQ, concurrent', value: result.ratio.vsBullmq.concurrent, unit: '×', verdict: { goal: ge(1), goalText: '≥ 1' } },
  ];

  const fmt = (v: number | null) => (v == null ? 'n/a' : Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(round(v, v < 1 ? 3 : 2)));
  const lines: string[] = [];
  lines.push('');
  lines.push(`Skein benchmark — ${quick ? 'QUICK (smaller sizes)' : 'FULL'} — ${startedAt}`);
  lines.push(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GiB, node ${machine.node}, PostgreSQL ${machine.postgres}, Redis ${machine.redis}, pg-boss ${machine.pgBoss}, BullMQ ${machine.bullmq}; load average at start ${machine.loadAvg1m}; worker concurrency ${CONCURRENCY} (Skein and BullMQ)`);
  lines.push('');
  const w = Math.max(...rows.map((r) => r.label.length));
  lines.push(`${'figure'.padEnd(w)}  ${'value'.padStart(9)} ${'unit'.padEnd(8)} ${'floor'.padEnd(16)} goal`);
  lines.push('-'.repeat(w + 52));
  for (const r of rows) {
    const v = r.verdict;
    const floor = v?.floor ? `${r.value == null ? '—' : v.floor(r.value) ? 'PASS' : 'MISS'} (${v.floorText})` : '';
    const goal = v?.goal ? `${r.value == null ? '—' : v.goal(r.value) ? 'met' : 'not met'} (${v.goalText})` : '';
    lines.push(`${r.label.padEnd(w)}  ${fmt(r.value).padStart(9)} ${r.unit.padEnd(8)} ${floor.padEnd(16)} ${goal}`);
  }
  if (skein) {
    const b = skein.chain.breakdown;
    lines.push('');
    lines.push(`chain breakdown (p50, stored event times): SUCCEEDED(i) → STARTED(i+1) ${b.succeededToStartedP50.toFixed(2)} ms (0 when the finishing transaction starts the dependent), STARTED → SUCCEEDED of one step ${b.startedToSucceededP50.toFixed(2)} ms (start commit, handler, finish transaction)`);
    lines.push(`dag: registration ${Math.round(skein.dag.registerMs)} ms of ${Math.round(skein.dag.totalMs)} ms; Skein (c) ÷ pg-boss ${fmt(ratio(skein.concurrent.stepsPerSec, pgBoss?.jobsPerSec))}, (b) ÷ pg-boss ${fmt(ratio(skein.wide.stepsPerSec, pgBoss?.jobsPerSec))}`);
  }
  if (pgBoss) lines.push(`pg-boss settings tried: ${pgBoss.tried.map((t) => `${t.loops}×${t.batchSize}: ${Math.round(t.jobsPerSec)} jobs/s`).join(', ')}`);
  if (api) {
    lines.push(`event stream rates: ${Object.entries(api.events).map(([k, e]) => `${k} ${Math.round(e.eventsPerSec)} events/s stored, ${e.samples} deliveries`).join('; ')}`);
    lines.push(`run.events SQL alone: ${api.events10k.sqlMs.toFixed(1)} ms for ${api.events10k.returned} rows`);
  }
  if (skein?.profiles.length) lines.push('', ...skein.profiles);
  if (errors.length) lines.push('', `ERRORS (${errors.length}):`, ...errors.map((e) => `  ${e.split('\n').slice(0, 4).join('\n  ')}`));
  lines.push('', `total bench time ${Math.round((Date.now() - t0) / 1000)} s`);
  console.log(lines.join('\n'));

  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(path.join(dir, `${quick ? 'quick' : 'full'}.json`), `${JSON.stringify(result, null, 2)}\n`);
  note(`wrote bench/results/latest.json`);
  return errors.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
