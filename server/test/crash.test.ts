import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  dropDatabase, getRun, register, runEvents, spawnWorker, start, startTestApp, stepOf, testDatabaseUrl, waitFor, waitForExit, waitForRun, waitForStep,
  type TestApp,
} from './support.js';

/** Real processes, real crashes: workers run as child processes and are killed with SIGKILL. */
let api: TestApp;
const dbUrl = testDatabaseUrl('crash');
const children: ReturnType<typeof spawnWorker>[] = [];

const worker = (env: Record<string, string> = {}) => {
  const w = spawnWorker(dbUrl, env);
  children.push(w);
  return w;
};

async function workerIdOf(pid: number): Promise<string> {
  return waitFor(async () => {
    const w = await api.db.models.Worker.findOne({ where: { pid, stoppedAt: null } });
    return w?.id;
  }, `worker ${pid} to register`);
}

beforeAll(async () => {
  // The API alone: steps only run in the worker processes this file spawns.
  api = await startTestApp({ databaseUrl: dbUrl, role: 'server' });
});
afterEach(async (ctx) => {
  // On failure, show what the worker processes said.
  if (ctx.task.result?.state === 'fail') for (const c of children) process.stderr.write(`--- worker ${c.pid} output:\n${c.output().slice(-4000)}\n`);
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await waitForExit(c).catch(() => undefined);
    }
  }
});
afterAll(async () => {
  await api?.stop();
  await dropDatabase(dbUrl);
});

describe('crash recovery with real processes', () => {
  it('retries a step whose worker was killed with SIGKILL mid-step, and the run succeeds', async () => {
    await register(api, { name: 'crashy', steps: [{ id: 'work', type: 'sleep', with: { ms: 2500 } }, { id: 'after', type: 'noop', needs: ['work'] }] });
    const a = worker();
    const aId = await workerIdOf(a.pid!);
    const id = await start(api, 'crashy');
    const running = await waitForStep(api, id, 'work', ['RUNNING']);
    expect(stepOf(running, 'work').workerId).toBe(aId);
    a.kill('SIGKILL');
    await waitForExit(a);
    const b = worker();
    const bId = await workerIdOf(b.pid!);
    const run = await waitForRun(api, id, ['SUCCEEDED', 'FAILED'], 30_000);
    expect(run.status).toBe('SUCCEEDED');
    const work = stepOf(run, 'work');
    // No retry policy, yet a lost worker is retried: attempt 2, on the surviving worker.
    expect(work.attempt).toBe(2);
    expect(work.attempts.map((x) => [x.attempt, x.status, x.error?.code ?? null])).toEqual([
      [1, 'FAILED', 'WORKER_LOST'],
      [2, 'SUCCEEDED', null],
    ]);
    const events = await runEvents(api, id);
    const started = events.filter((e) => e.type === 'STEP_STARTED' && e.stepId === 'work');
    expect(started.map((e) => e.attempt)).toEqual([1, 2]);
    expect(bId).not.toBe(aId);
  });

  it('cancels a running sleep held by another process through its abort signal', async () => {
    await register(api, { name: 'cancel-remote', steps: [{ id: 'long', type: 'sleep', with: { ms: 60_000 } }] });
    worker();
    const id = await start(api, 'cancel-remote');
    await waitForStep(api, id, 'long', ['RUNNING']);
    const t0 = Date.now();
    await api.ok(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id });
    const run = await waitForRun(api, id, ['CANCELLED'], 15_000);
    expect(stepOf(run, 'long').attempts[0].error?.code).toBe('CANCELLED');
    // Aborted, not waited out: far less than the step's 60 s.
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('repairs a run whose queued step lost its job (reconciler) and finishes it', async () => {
    await register(api, { name: 'corrupt', steps: [{ id: 'x', type: 'noop' }, { id: 'y', type: 'noop', needs: ['x'] }] });
    const id = await start(api, 'corrupt');
    const step = await api.db.models.StepRun.findOne({ where: { runId: id, stepId: 'x' } });
    expect(step!.status).toBe('QUEUED');
    // Corrupt it: the job disappears while the row still says QUEUED (no worker is running).
    await api.db.sequelize.query(`DELETE FROM pgboss.job WHERE id = $1`, { bind: [step!.jobId] });
    const repaired = await api.engine.reconcile();
    expect(repaired.requeued).toBe(1);
    worker();
    const run = await waitForRun(api, id, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    expect((await runEvents(api, id)).some((e) => e.type === 'RUN_REPAIRED' && e.stepId === 'x')).toBe(true);
  });

  it('on SIGTERM lets running steps finish within the grace period, releases the rest, and exits 0', async () => {
    await register(api, { name: 'shutdown', steps: [{ id: 'short', type: 'sleep', with: { ms: 300 } }, { id: 'long', type: 'sleep', with: { ms: 20_000 } }] });
    const a = worker({ SHUTDOWN_GRACE_MS: '1500' });
    await workerIdOf(a.pid!);
    const id = await start(api, 'shutdown');
    await waitFor(async () => (await getRun(api, id)).steps.every((s) => s.status === 'RUNNING'), 'both steps running');
    a.kill('SIGTERM');
    expect(await waitForExit(a)).toBe(0);
    const after = await getRun(api, id);
    expect(stepOf(after, 'short').status).toBe('SUCCEEDED');
    expect(stepOf(after, 'long').attempts[0]?.error?.code).toBe('WORKER_LOST');
    expect(['RETRYING', 'QUEUED']).toContain(stepOf(after, 'long').status);
    await api.ok(`mutation($id: ID!) { cancelRun(id: $id) { status } }`, { id });
  });

  it('loses nothing when every process restarts mid-run', async () => {
    await register(api, {
      name: 'restart',
      steps: [
        { id: 'a', type: 'sleep', with: { ms: 400 } },
        { id: 'b', type: 'sleep', with: { ms: 1500 }, needs: ['a'] },
        { id: 'c', type: 'noop', needs: ['b'] },
      ],
    });
    const w1 = worker();
    const id = await start(api, 'restart');
    await waitForStep(api, id, 'b', ['RUNNING']);
    w1.kill('SIGKILL');
    await waitForExit(w1);
    // Restart the API server too (new process state, same database).
    await api.stop();
    api = await startTestApp({ databaseUrl: dbUrl, role: 'server' });
    worker();
    const run = await waitForRun(api, id, ['SUCCEEDED', 'FAILED'], 30_000);
    expect(run.status).toBe('SUCCEEDED');
    expect(stepOf(run, 'a').attempts).toHaveLength(1);
    expect(stepOf(run, 'c').status).toBe('SUCCEEDED');
  });

  it('spreads a fan-out over several worker processes, each step exactly once', async () => {
    await register(api, {
      name: 'spread',
      steps: [{ id: 'root', type: 'noop' }, ...Array.from({ length: 30 }, (_, i) => ({ id: `s${i}`, type: 'sleep', with: { ms: 150 }, needs: ['root'] }))],
    });
    const w1 = worker({ WORKER_CONCURRENCY: '4' });
    const w2 = worker({ WORKER_CONCURRENCY: '4' });
    const ids = new Set([await workerIdOf(w1.pid!), await workerIdOf(w2.pid!)]);
    const run = await waitForRun(api, await start(api, 'spread'), ['SUCCEEDED', 'FAILED'], 30_000);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.steps.every((s) => s.attempts.length === 1)).toBe(true);
    const startedBy = await api.db.sequelize.query(
      `SELECT DISTINCT data->>'workerId' AS w FROM run_events WHERE run_id = $1 AND type = 'STEP_STARTED'`,
      { bind: [run.id], type: 'SELECT' as never },
    ) as unknown as { w: string }[];
    expect(new Set(startedBy.map((r) => r.w))).toEqual(ids);
  });
});
