import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lifecycleSuite } from './lifecycle.js';
import {
  dropDatabase, getRun, register, start, startTestApp, stepOf, testDatabaseUrl, waitFor, waitForRun, type TestApp,
} from './support.js';

let app: TestApp;
const dbUrl = testDatabaseUrl('engine');

beforeAll(async () => {
  app = await startTestApp({ databaseUrl: dbUrl, env: { WORKER_CONCURRENCY: '8' } });
});
afterAll(async () => {
  await app?.stop();
  await dropDatabase(dbUrl);
});

lifecycleSuite(() => app);

const sleep = (id: string, ms: number, needs: string[] = [], extra: Record<string, unknown> = {}) => ({ id, type: 'sleep', needs, with: { ms }, ...extra });

describe('scheduling', () => {
  it('skips a step whose `if` is false, skips its dependents with the reason, and runs allDone steps', async () => {
    await register(app, {
      name: 'conditional',
      steps: [
        { id: 'count', type: 'transform', with: { expression: 'input.count' } },
        { id: 'publish', type: 'noop', needs: ['count'], if: 'steps.count.output > 0' },
        { id: 'after-publish', type: 'noop', needs: ['publish'] },
        { id: 'notify', type: 'noop', needs: ['after-publish'], trigger: 'allDone' },
      ],
    });
    const run = await waitForRun(app, await start(app, 'conditional', { count: 0 }), ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    expect(stepOf(run, 'publish').status).toBe('SKIPPED');
    expect(stepOf(run, 'publish').skipReason).toMatch(/if .* was false/);
    expect(stepOf(run, 'after-publish').status).toBe('SKIPPED');
    expect(stepOf(run, 'after-publish').skipReason).toBe('need publish was skipped');
    expect(stepOf(run, 'notify').status).toBe('SUCCEEDED');

    const ran = await waitForRun(app, await start(app, 'conditional', { count: 3 }), ['SUCCEEDED', 'FAILED']);
    expect(stepOf(ran, 'publish').status).toBe('SUCCEEDED');
  });
});

describe('worker turns', () => {
  it('starts ready dependents from the finishing transaction, and every job of the run ends completed in the queue', async () => {
    await register(app, {
      name: 'turns',
      steps: [
        { id: 'root', type: 'transform', with: { expression: '{ "list": [1, 2, 3] }' } },
        ...Array.from({ length: 12 }, (_, i) => ({ id: `m${i}`, type: 'transform', needs: ['root'], with: { expression: `$append(steps.root.output.list, ${i})` } })),
        { id: 'c1', type: 'noop', needs: Array.from({ length: 12 }, (_, i) => `m${i}`) },
        { id: 'c2', type: 'noop', needs: ['c1'] },
      ],
    });
    const id = await start(app, 'turns');
    const run = await waitForRun(app, id, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    // Each dependent saw the root's output as stored, not another dependent's copy.
    for (let i = 0; i < 12; i++) expect(stepOf(run, `m${i}`).output).toEqual([1, 2, 3, i]);
    // c2 was started by the transaction that recorded c1 (no queue hop): its job was created
    // already active, in that transaction (now() is the transaction's start time).
    const [[c2]] = (await app.db.sequelize.query(
      `SELECT created_on = started_on AS direct FROM pgboss.job WHERE data->>'runId' = $1 AND data->>'stepId' = 'c2'`,
      { bind: [id] },
    )) as unknown as [Array<{ direct: boolean }>];
    expect(c2.direct).toBe(true);
    // Every attempt had a job, and every job ended completed: the queue's figures stay true.
    const [jobs] = (await app.db.sequelize.query(
      `SELECT state, count(*)::int AS n FROM pgboss.job WHERE data->>'runId' = $1 GROUP BY state`,
      { bind: [id] },
    )) as unknown as [Array<{ state: string; n: number }>];
    expect(jobs).toEqual([{ state: 'completed', n: 15 }]);
  });
});

describe('failures and retries', () => {

  it('fails a permanent error at once, skips its dependents and lets independent branches finish', async () => {
    await register(app, {
      name: 'permanent',
      steps: [
        { id: 'bad', type: 'fail', with: { permanent: true, message: 'bad request' }, retry: { limit: 5, delayMs: 10 } },
        { id: 'downstream', type: 'noop', needs: ['bad'] },
        sleep('independent', 300),
        { id: 'after-independent', type: 'noop', needs: ['independent'] },
      ],
    });
    const run = await waitForRun(app, await start(app, 'permanent'), ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatchObject({ stepId: 'bad', code: 'PERMANENT' });
    expect(stepOf(run, 'bad').attempts).toHaveLength(1);
    expect(stepOf(run, 'bad').error).toMatchObject({ code: 'PERMANENT', message: 'bad request' });
    expect(stepOf(run, 'downstream').status).toBe('SKIPPED');
    expect(stepOf(run, 'downstream').skipReason).toBe('need bad failed');
    expect(stepOf(run, 'after-independent').status).toBe('SUCCEEDED');
  });

  it('aborts a step at its timeout and retries it as a retryable failure', async () => {
    await register(app, { name: 'timeout', steps: [{ id: 'slow', type: 'sleep', with: { ms: 10_000 }, timeoutMs: 200, retry: { limit: 1, delayMs: 10 } }] });
    const run = await waitForRun(app, await start(app, 'timeout'), ['SUCCEEDED', 'FAILED']);
    const slow = stepOf(run, 'slow');
    expect(run.status).toBe('FAILED');
    expect(slow.attempts.map((a) => a.error?.code)).toEqual(['TIMEOUT', 'TIMEOUT']);
    expect(slow.error?.message).toMatch(/timed out after 200 ms/);
  });

});

describe('run control', () => {

  it('withdraws queued jobs on pause and schedules them again on resume', async () => {
    const steps = [sleep('gate', 400), ...Array.from({ length: 12 }, (_, i) => sleep(`w${i}`, 300, ['gate']))];
    await register(app, { name: 'pause-queued', steps });
    const id = await start(app, 'pause-queued');
    // Concurrency 8 < 12: once the gate ends, some steps run and the rest wait queued.
    await waitFor(async () => (await getRun(app, id)).steps.some((s) => s.status === 'RUNNING' && s.stepId !== 'gate'), 'fan-out running');
    await app.ok(`mutation($id: ID!) { pauseRun(id: $id) { status } }`, { id });
    const held = await waitForRun(app, id, ['PAUSED']);
    expect(held.steps.filter((s) => s.status === 'QUEUED')).toHaveLength(0);
    expect(held.steps.some((s) => s.status === 'PENDING')).toBe(true);
    await app.ok(`mutation($id: ID!) { resumeRun(id: $id) { status } }`, { id });
    const run = await waitForRun(app, id, ['SUCCEEDED', 'FAILED']);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.steps.every((s) => s.attempts.length === 1)).toBe(true);
  });

  it('returns the same run for the same idempotency key', async () => {
    await register(app, { name: 'idem', steps: [{ id: 'x', type: 'noop' }] });
    const [a, b] = await Promise.all([start(app, 'idem', { v: 1 }, 'key-1'), start(app, 'idem', { v: 1 }, 'key-1')]);
    expect(a).toBe(b);
    expect(await start(app, 'idem', { v: 1 }, 'key-1')).toBe(a);
    expect(await start(app, 'idem', { v: 1 }, 'key-2')).not.toBe(a);
  });

  it('refuses illegal transitions and unknown ids with stable codes', async () => {
    await register(app, { name: 'quick', steps: [{ id: 'x', type: 'noop' }] });
    const id = await start(app, 'quick');
    await waitForRun(app, id, ['SUCCEEDED']);
    for (const m of ['pauseRun', 'resumeRun', 'cancelRun', 'retryRun']) {
      const r = await app.gql(`mutation($id: ID!) { ${m}(id: $id) { status } }`, { id });
      expect(r.errors?.[0].extensions).toMatchObject({ code: 'ILLEGAL_TRANSITION', status: 'SUCCEEDED' });
    }
    const missing = await app.gql(`mutation { pauseRun(id: "00000000-0000-0000-0000-000000000000") { status } }`);
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const garbage = await app.gql(`mutation { cancelRun(id: "not-a-uuid") { status } }`);
    expect(garbage.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const noWorkflow = await app.gql(`mutation { startRun(workflow: "nope") { id } }`);
    expect(noWorkflow.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const noStep = await app.gql(`mutation($id: ID!) { approveStep(runId: $id, stepId: "ghost", approved: true) { status } }`, { id });
    expect(noStep.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('checks input against the inputSchema', async () => {
    await register(app, {
      name: 'typed-input',
      inputSchema: { type: 'object', required: ['day'], properties: { day: { type: 'string', format: 'date' } } },
      steps: [{ id: 'x', type: 'noop' }],
    });
    const bad = await app.gql(`mutation { startRun(workflow: "typed-input", input: { day: 5 }) { id } }`);
    expect(bad.errors?.[0].extensions?.code).toBe('INVALID_INPUT');
    const runsBefore = await app.ok<{ runs: { totalCount: number } }>(`{ runs(workflow: "typed-input") { totalCount } }`);
    expect(runsBefore.runs.totalCount).toBe(0);
    await start(app, 'typed-input', { day: '2026-11-23' });
  });
});

describe('startRun', () => {
  it('returns the run as its transaction left it, the same as reading it back', async () => {
    // An approval root: the run starts (RUNNING) in the starting transaction and then waits.
    await register(app, { name: 'start-held', steps: [{ id: 'gate', type: 'approval', with: { prompt: 'go?' } }, { id: 'after', type: 'noop', needs: ['gate'] }] });
    const started = await app.engine.startRun({ workflow: 'start-held', input: { bb: 1, a: [2] }, idempotencyKey: 'held-1', actor: 'tester' });
    const read = await app.db.models.Run.findByPk(started.id);
    expect(started.get({ plain: true })).toEqual(read!.get({ plain: true }));
    expect(started).toMatchObject({ status: 'RUNNING', stepsTotal: 2, stepsDone: 0, lastSeq: 3, createdBy: 'tester', idempotencyKey: 'held-1', workflowName: 'start-held' });
    expect(started.startedAt).toBeInstanceOf(Date);
    expect(started.isNewRecord).toBe(false);
    // The same key: the same run, as stored.
    const again = await app.engine.startRun({ workflow: 'start-held', input: { other: true }, idempotencyKey: 'held-1' });
    expect(again.get({ plain: true })).toEqual(read!.get({ plain: true }));
  });

  it('starts the latest version even when another one was started before (its first guess is checked)', async () => {
    const latest = async (input: unknown) => (await app.engine.startRun({ workflow: 'versions', input })).workflowVersion;
    await register(app, { name: 'versions', inputSchema: { type: 'object', required: ['a'] }, steps: [{ id: 'x', type: 'noop' }] });
    expect(await latest({ a: 1 })).toBe(1);
    expect(await latest({ a: 1 })).toBe(1);
    // v2 takes an input v1 refused.
    await register(app, { name: 'versions', inputSchema: { type: 'object', required: ['b'] }, steps: [{ id: 'y', type: 'noop' }, { id: 'z', type: 'noop', needs: ['y'], if: 'input.b' }] });
    const id = await start(app, 'versions', { b: true });
    const run = await waitForRun(app, id, ['SUCCEEDED', 'FAILED']);
    expect(run.steps.map((s) => [s.stepId, s.status])).toEqual([['y', 'SUCCEEDED'], ['z', 'SUCCEEDED']]);
    // v3, v4 and v5 take the same input as v2 (v4 with an `if` on its root).
    await register(app, { name: 'versions', steps: [{ id: 'v3', type: 'noop' }] });
    expect(await latest({ b: true })).toBe(3);
    await register(app, { name: 'versions', steps: [{ id: 'v4', type: 'noop', if: 'true' }] });
    expect(await latest({ b: true })).toBe(4);
    expect(await latest({ b: true })).toBe(4);
    await register(app, { name: 'versions', steps: [{ id: 'v5', type: 'noop' }] });
    expect(await latest({ b: true })).toBe(5);
    expect((await app.engine.startRun({ workflow: 'versions', version: 1, input: { a: 2 } })).workflowVersion).toBe(1);
    const refused = await app.gql(`mutation { startRun(workflow: "versions", version: 1, input: { b: 1 }) { id } }`);
    expect(refused.errors?.[0].extensions?.code).toBe('INVALID_INPUT');
    const none = await app.gql(`mutation { startRun(workflow: "versions", version: 9) { id } }`);
    expect(none.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    // Each start wrote one run with its own steps; the guesses that went stale wrote nothing.
    const [counts] = (await app.db.sequelize.query(
      `SELECT r.workflow_version AS v, count(DISTINCT r.id)::int AS runs, count(s.id)::int AS steps FROM runs r JOIN step_runs s ON s.run_id = r.id
       WHERE r.workflow_name = 'versions' GROUP BY 1 ORDER BY 1`,
    )) as [{ v: number; runs: number; steps: number }[], unknown];
    expect(counts).toEqual([{ v: 1, runs: 3, steps: 3 }, { v: 2, runs: 1, steps: 2 }, { v: 3, runs: 1, steps: 1 }, { v: 4, runs: 2, steps: 2 }, { v: 5, runs: 1, steps: 1 }]);
  });

  it("evaluates a root step's `if` over the input as stored (jsonb orders keys)", async () => {
    await register(app, { name: 'root-if', steps: [{ id: 'first-key-a', type: 'noop', if: "$keys(input)[0] = 'a'" }] });
    // jsonb stores shorter keys first: { a, bb } whatever order the client sent.
    const run = await waitForRun(app, await start(app, 'root-if', { bb: 1, a: 2 }), ['SUCCEEDED', 'FAILED']);
    expect(stepOf(run, 'first-key-a').status).toBe('SUCCEEDED');
  });
});

describe('fencing and repair', () => {
  it('drops claimed step jobs that name no step to start (stale, no such run, malformed) and goes on', async () => {
    await register(app, { name: 'orphans', steps: [sleep('s', 200)] });
    const id = await start(app, 'orphans');
    const ids = { stale: randomUUID(), noRun: randomUUID(), malformed: randomUUID() };
    await app.db.sequelize.query(
      `INSERT INTO pgboss.job (id, name, data) VALUES ($1, 'skein-steps', $2::jsonb), ($3, 'skein-steps', $4::jsonb), ($5, 'skein-steps', $6::jsonb)`,
      {
        bind: [
          ids.stale, JSON.stringify({ runId: id, stepRunId: randomUUID(), stepId: 's', attempt: 1 }),
          ids.noRun, JSON.stringify({ runId: randomUUID(), stepRunId: randomUUID(), stepId: 's', attempt: 1 }),
          ids.malformed, JSON.stringify({ runId: 'not-a-uuid', attempt: 'x' }),
        ],
      },
    );
    const state = async (jobId: string) =>
      ((await app.db.sequelize.query(`SELECT state FROM pgboss.job WHERE id = $1`, { bind: [jobId] })) as unknown as [Array<{ state: string }>])[0][0].state;
    // Another run wakes the worker: it claims these jobs with that run's, starts nothing for them,
    // completes them, and both runs go on.
    const next = await start(app, 'orphans');
    expect((await waitForRun(app, next, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');
    for (const [what, jobId] of Object.entries(ids)) await waitFor(async () => (await state(jobId)) === 'completed', `the ${what} job to be completed`);
    expect((await waitForRun(app, id, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');
  });

  it('ignores a result from an attempt that is no longer current', async () => {
    await register(app, { name: 'fenced', steps: [sleep('s', 1500)] });
    const id = await start(app, 'fenced');
    // The run and its steps are read by separate queries: wait until both say RUNNING.
    const running = await waitFor(async () => {
      const run = await getRun(app, id);
      return run.status === 'RUNNING' && stepOf(run, 's').status === 'RUNNING' ? run : null;
    }, 'the run and its step to be RUNNING');
    const step = await app.db.models.StepRun.findOne({ where: { runId: id, stepId: 's' } });
    // A worker presumed dead reports attempt 1 late, after the step moved to another attempt/job.
    const late = await app.engine.finishAttempt({ runId: id, stepRunId: step!.id, attempt: 1, jobId: '00000000-0000-0000-0000-000000000001' }, { ok: true, output: 'stale' });
    expect(late).toBe('fenced');
    const wrongAttempt = await app.engine.finishAttempt({ runId: id, stepRunId: step!.id, attempt: 7, jobId: step!.jobId! }, { ok: true, output: 'stale' });
    expect(wrongAttempt).toBe('fenced');
    expect(stepOf(await getRun(app, id), 's').status).toBe('RUNNING');
    const run = await waitForRun(app, id, ['SUCCEEDED', 'FAILED']);
    expect(stepOf(run, 's').output).toEqual({ sleptMs: 1500 });
    expect(running.status).toBe('RUNNING');
  });
});
