// Scenarios (a)–(d): Skein role `all` in this process, WORKER_CONCURRENCY = CONCURRENCY, its own
// database. Figures come from stored data: run_events.at is clock_timestamp() at insert time.
import type pg from 'pg';
import { z } from 'zod';
import { defineStep } from '../server/src/steps/define.js';
import { endProfile, startProfile } from './profile.js';
import {
  assertAllSucceeded, note, now, percentile, REGISTER, START, startSkein, storedWallMs, waitRunsDone, withClient, type Skein,
} from './lib.js';
import { chain, depth, diamond, randomDag, wide } from './workflows.js';

export interface SkeinSizes {
  chainLength: number;
  chainRepeats: number;
  width: number;
  runs: number;
  diamondSize: number;
  dagNodes: number;
}

export interface ChainResult {
  /** Handler i returns → handler i+1 starts (the finish transaction, its commit, the start): p50/p95/p99. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  msPerStep: number;
  samples: number;
  /** From stored events (p50s): SUCCEEDED(i) → STARTED(i+1) (0 when one transaction does both); STARTED → SUCCEEDED of one step. */
  breakdown: { succeededToStartedP50: number; startedToSucceededP50: number };
}

export interface SkeinResult {
  chain: ChainResult;
  wide: { stepsPerSec: number; wallMs: number; steps: number };
  concurrent: { stepsPerSec: number; wallMs: number; steps: number };
  dag: { totalMs: number; registerMs: number; nodes: number; depth: number };
  profiles: string[];
}

export async function skeinScenarios(sizes: SkeinSizes, profile: boolean): Promise<SkeinResult> {
  const skein = await startSkein('engine');
  const profiles: string[] = [];
  const prof = {
    start: () => profile && startProfile(new URL(skein.databaseUrl).pathname.slice(1)),
    end: (label: string, steps: number) => profile && profiles.push(endProfile(label, steps)),
  };
  try {
    return await withClient(skein.databaseUrl, async (c) => {
      const engine = skein.app.engine;
      // A no-op that notes when its handler starts and returns, in this process's clock.
      const stamps = new Map<string, { start: number; end: number }>();
      engine.registry.add(defineStep({
        type: 'bench-stamp',
        input: z.object({}).strict().optional().default({}),
        run: (ctx) => {
          const t = now();
          stamps.set(`${ctx.runId}/${ctx.stepId}`, { start: t, end: now() });
          return null;
        },
      }));
      // Warm-up: caches, JIT, pool connections.
      note('skein in-process: warm-up');
      await engine.registerWorkflow(wide('warm', 20));
      assertAllSucceeded(await waitRunsDone(c, [(await engine.startRun({ workflow: 'warm' })).id], 30_000), 'warm-up');

      // (a) chain
      note(`skein chain of ${sizes.chainLength} × ${sizes.chainRepeats}`);
      await engine.registerWorkflow(chain('chain', sizes.chainLength, 'bench-stamp'));
      const chainRuns: string[] = [];
      prof.start();
      for (let i = 0; i < sizes.chainRepeats; i++) {
        const id = (await engine.startRun({ workflow: 'chain' })).id;
        assertAllSucceeded(await waitRunsDone(c, [id], 120_000), 'chain');
        chainRuns.push(id);
      }
      prof.end(`chain of ${sizes.chainLength} × ${sizes.chainRepeats}`, sizes.chainLength * sizes.chainRepeats);
      const chainResult = await chainDelays(c, chainRuns, sizes.chainLength, stamps);
      note(`skein chain: p50 ${chainResult.p50Ms.toFixed(2)} ms, p99 ${chainResult.p99Ms.toFixed(2)} ms, ${chainResult.msPerStep.toFixed(2)} ms per step`);

      // (b) wide
      await engine.registerWorkflow(wide('wide', sizes.width));
      prof.start();
      const wideId = (await engine.startRun({ workflow: 'wide' })).id;
      assertAllSucceeded(await waitRunsDone(c, [wideId], 300_000), 'wide');
      prof.end(`wide 1 → ${sizes.width} → 1`, sizes.width + 2);
      const wideMs = await storedWallMs(c, [wideId]);
      const wideResult = { stepsPerSec: ((sizes.width + 2) / wideMs) * 1000, wallMs: wideMs, steps: sizes.width + 2 };
      note(`skein wide: ${Math.round(wideResult.stepsPerSec)} steps/s, ${Math.round(wideMs)} ms`);

      // (c) concurrent diamonds
      await engine.registerWorkflow(diamond('diamond', sizes.diamondSize));
      prof.start();
      const ids = (await Promise.all(Array.from({ length: sizes.runs }, () => engine.startRun({ workflow: 'diamond' })))).map((r) => r.id);
      assertAllSucceeded(await waitRunsDone(c, ids, 300_000), 'concurrent');
      prof.end(`${sizes.runs} diamonds of ${sizes.diamondSize}`, sizes.runs * sizes.diamondSize);
      const concMs = await storedWallMs(c, ids);
      const steps = sizes.runs * sizes.diamondSize;
      const concResult = { stepsPerSec: (steps / concMs) * 1000, wallMs: concMs, steps };
      note(`skein concurrent: ${Math.round(concResult.stepsPerSec)} steps/s, ${Math.round(concMs)} ms`);

      // (d) random DAG, through the API: registration + start + run to done
      const dag = await dagScenario(skein, c, sizes.dagNodes);
      note(`skein dag of ${sizes.dagNodes}: ${Math.round(dag.totalMs)} ms (register ${Math.round(dag.registerMs)} ms, depth ${dag.depth})`);

      return { chain: chainResult, wide: wideResult, concurrent: concResult, dag, profiles };
    });
  } finally {
    await skein.stop();
  }
}

async function chainDelays(c: pg.Client, runIds: string[], n: number, stamps: Map<string, { start: number; end: number }>): Promise<ChainResult> {
  const { rows } = await c.query<{ run_id: string; type: string; step_id: string; ms: number }>(
    `SELECT run_id, type, step_id, EXTRACT(EPOCH FROM at) * 1000 AS ms FROM run_events
     WHERE run_id = ANY($1::uuid[]) AND type IN ('STEP_STARTED', 'STEP_SUCCEEDED')`,
    [runIds],
  );
  const at = new Map(rows.map((r) => [`${r.run_id}/${r.type}/${r.step_id}`, Number(r.ms)]));
  const delays: number[] = [];
  const st: number[] = [];
  const ss: number[] = [];
  for (const run of runIds) {
    for (let i = 0; i < n; i++) {
      const started = at.get(`${run}/STEP_STARTED/s${i}`)!;
      const succeeded = at.get(`${run}/STEP_SUCCEEDED/s${i}`)!;
      ss.push(succeeded - started);
      if (i + 1 < n) {
        delays.push(stamps.get(`${run}/s${i + 1}`)!.start - stamps.get(`${run}/s${i}`)!.end);
        st.push(at.get(`${run}/STEP_STARTED/s${i + 1}`)! - succeeded);
      }
    }
  }
  const wall = await storedWallMs(c, runIds.slice(0, 1));
  return {
    p50Ms: percentile(delays, 50),
    p95Ms: percentile(delays, 95),
    p99Ms: percentile(delays, 99),
    msPerStep: wall / n,
    samples: delays.length,
    breakdown: { succeededToStartedP50: percentile(st, 50), startedToSucceededP50: percentile(ss, 50) },
  };
}

async function dagScenario(skein: Skein, c: pg.Client, nodes: number): Promise<SkeinResult['dag']> {
  const def = randomDag('dag', nodes);
  const t0 = now();
  await skein.gql(REGISTER, { d: def });
  const registerMs = now() - t0;
  const { startRun } = await skein.gql<{ startRun: { id: string } }>(START, { w: 'dag' });
  assertAllSucceeded(await waitRunsDone(c, [startRun.id], 300_000, 5), 'dag');
  const { rows } = await c.query<{ ms: number }>(`SELECT EXTRACT(EPOCH FROM at) * 1000 AS ms FROM run_events WHERE run_id = $1 AND type = 'RUN_SUCCEEDED'`, [startRun.id]);
  return { totalMs: Number(rows[0].ms) - t0, registerMs, nodes, depth: depth(def) };
}
