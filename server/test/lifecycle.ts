import { describe, expect, it } from 'vitest';
import { getRun, register, runEvents, start, stepOf, waitForRun, waitForStep, type TestApp } from './support.js';

/**
 * The run lifecycle every database must carry the same way: scheduling, retries, retryRun, pause
 * and resume, cancel, approvals. engine.test.ts runs it on the local Postgres with Redis, and
 * embedded.test.ts on the embedded one with the in-process bus.
 */
export function lifecycleSuite(app: () => TestApp): void {
  const sleep = (id: string, ms: number, needs: string[] = [], extra: Record<string, unknown> = {}) => ({ id, type: 'sleep', needs, with: { ms }, ...extra });

  describe('run lifecycle', () => {
    it('runs a diamond with outputs flowing from needs to dependents', async () => {
      await register(app(), {
        name: 'diamond',
        steps: [
          { id: 'a', type: 'transform', with: { expression: '{ "n": input.n }' } },
          { id: 'b', type: 'transform', needs: ['a'], with: { expression: 'steps.a.output.n * 2' } },
          { id: 'c', type: 'transform', needs: ['a'], with: { expression: 'steps.a.output.n + 1' } },
          { id: 'd', type: 'transform', needs: ['b', 'c'], with: { expression: 'steps.b.output + steps.c.output' } },
        ],
      });
      const id = await start(app(), 'diamond', { n: 5 });
      const run = await waitForRun(app(), id, ['SUCCEEDED', 'FAILED']);
      expect(run.status).toBe('SUCCEEDED');
      expect(stepOf(run, 'b').output).toBe(10);
      expect(stepOf(run, 'c').output).toBe(6);
      expect(stepOf(run, 'd').output).toBe(16);
      expect(run.output).toEqual({ d: 16 });
      expect(run.progress).toBe(1);
      // Every event has the next seq: no gaps, starting at 1.
      const events = await runEvents(app(), id);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events[0].type).toBe('RUN_CREATED');
      expect(events.at(-1)!.type).toBe('RUN_SUCCEEDED');
    });
    it('runs independent branches at the same time and joins after both', async () => {
      await register(app(), { name: 'parallel', steps: [sleep('left', 600), sleep('right', 600), { id: 'join', type: 'noop', needs: ['left', 'right'] }] });
      const run = await waitForRun(app(), await start(app(), 'parallel'), ['SUCCEEDED', 'FAILED']);
      const [l, r, j] = ['left', 'right', 'join'].map((s) => stepOf(run, s));
      const t = (x: string | null) => new Date(x!).getTime();
      // The two branches overlap in time; the join starts after both ended.
      expect(t(l.startedAt)).toBeLessThan(t(r.finishedAt));
      expect(t(r.startedAt)).toBeLessThan(t(l.finishedAt));
      expect(t(j.startedAt)).toBeGreaterThanOrEqual(Math.max(t(l.finishedAt), t(r.finishedAt)));
    });
    it('retries a transient failure to success, recording every attempt', async () => {
      await register(app(), { name: 'flaky', steps: [{ id: 'f', type: 'fail', with: { times: 2 }, retry: { limit: 3, delayMs: 50, backoff: 'exponential' } }] });
      const run = await waitForRun(app(), await start(app(), 'flaky'), ['SUCCEEDED', 'FAILED']);
      const f = stepOf(run, 'f');
      expect(run.status).toBe('SUCCEEDED');
      expect(f.attempt).toBe(3);
      expect(f.maxAttempts).toBe(4);
      expect(f.output).toEqual({ attempt: 3 });
      expect(f.attempts.map((a) => [a.attempt, a.status, a.error?.code ?? null])).toEqual([
        [1, 'FAILED', 'HANDLER_ERROR'],
        [2, 'FAILED', 'HANDLER_ERROR'],
        [3, 'SUCCEEDED', null],
      ]);
      const types = (await runEvents(app(), run.id)).filter((e) => e.stepId === 'f').map((e) => e.type);
      expect(types.filter((t) => t === 'STEP_RETRYING')).toHaveLength(2);
    });
    it('retryRun re-runs only what did not succeed, and attempt numbers go on counting', async () => {
      await register(app(), {
        name: 'retry-run',
        steps: [
          { id: 'first', type: 'noop' },
          { id: 'flaky', type: 'fail', needs: ['first'], with: { times: 1 } },
          { id: 'last', type: 'noop', needs: ['flaky'] },
        ],
      });
      const id = await start(app(), 'retry-run');
      const failed = await waitForRun(app(), id, ['FAILED']);
      expect(stepOf(failed, 'last').status).toBe('SKIPPED');
      const retried = await app().ok<{ retryRun: { status: string } }>(`mutation($id: ID!) { retryRun(id: $id, reason: "fixed it") { status } }`, { id });
      expect(retried.retryRun.status).toBe('RUNNING');
      const run = await waitForRun(app(), id, ['SUCCEEDED', 'FAILED']);
      expect(run.status).toBe('SUCCEEDED');
      expect(stepOf(run, 'first').attempt).toBe(1);
      expect(stepOf(run, 'first').attempts).toHaveLength(1);
      expect(stepOf(run, 'flaky').attempt).toBe(2);
      expect(stepOf(run, 'flaky').attempts.map((a) => a.status)).toEqual(['FAILED', 'SUCCEEDED']);
      expect(stepOf(run, 'last').attempt).toBe(1);
      const events = await runEvents(app(), id);
      expect(events.find((e) => e.type === 'RUN_RETRIED')).toMatchObject({ actor: 'anonymous', message: 'fixed it' });
    });
    it('pauses mid-run (running steps finish, nothing new starts), then resumes with no step run twice', async () => {
      await register(app(), { name: 'pausable', steps: [sleep('one', 700), sleep('two', 200, ['one']), sleep('three', 200, ['two'])] });
      const id = await start(app(), 'pausable');
      await waitForStep(app(), id, 'one', ['RUNNING']);
      const paused = await app().ok<{ pauseRun: { status: string } }>(`mutation($id: ID!) { pauseRun(id: $id, reason: "lunch") { status } }`, { id });
      expect(paused.pauseRun.status).toBe('PAUSING');
      const held = await waitForRun(app(), id, ['PAUSED']);
      expect(stepOf(held, 'one').status).toBe('SUCCEEDED');
      expect(stepOf(held, 'two').status).toBe('PENDING');
      // Held: nothing starts while paused.
      await new Promise((r) => setTimeout(r, 700));
      expect(stepOf(await getRun(app(), id), 'two').status).toBe('PENDING');
      await app().ok(`mutation($id: ID!) { resumeRun(id: $id) { status } }`, { id });
      const run = await waitForRun(app(), id, ['SUCCEEDED', 'FAILED']);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.steps.map((s) => s.attempts.length)).toEqual([1, 1, 1]);
      const types = (await runEvents(app(), id)).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['RUN_PAUSING', 'RUN_PAUSED', 'RUN_RESUMED', 'RUN_SUCCEEDED']));
    });
    it('cancels: running handlers are aborted through their signal, the rest never run', async () => {
      await register(app(), { name: 'cancellable', steps: [sleep('long', 30_000), sleep('after', 10, ['long'])] });
      const id = await start(app(), 'cancellable');
      await waitForStep(app(), id, 'long', ['RUNNING']);
      const res = await app().ok<{ cancelRun: { status: string } }>(`mutation($id: ID!) { cancelRun(id: $id, reason: "wrong input") { status } }`, { id });
      expect(res.cancelRun.status).toBe('CANCELLING');
      const run = await waitForRun(app(), id, ['CANCELLED'], 10_000);
      expect(stepOf(run, 'long').status).toBe('CANCELLED');
      expect(stepOf(run, 'long').attempts[0].error?.code).toBe('CANCELLED');
      expect(stepOf(run, 'after').status).toBe('CANCELLED');
      expect(stepOf(run, 'after').attempts).toHaveLength(0);
    });
    it('decides approval steps: approve succeeds with who and comment, reject fails permanently', async () => {
      await register(app(), {
        name: 'approvals',
        steps: [{ id: 'review', type: 'approval', with: { prompt: 'Ship it?' } }, { id: 'ship', type: 'noop', needs: ['review'] }],
      });
      const yes = await start(app(), 'approvals');
      await waitForStep(app(), yes, 'review', ['WAITING']);
      const approved = await app().ok<{ approveStep: { status: string; output: unknown } }>(
        `mutation($r: ID!) { approveStep(runId: $r, stepId: "review", approved: true, comment: "lgtm") { status output } }`,
        { r: yes },
      );
      expect(approved.approveStep).toEqual({ status: 'SUCCEEDED', output: { approved: true, comment: 'lgtm', by: 'anonymous' } });
      expect((await waitForRun(app(), yes, ['SUCCEEDED', 'FAILED'])).status).toBe('SUCCEEDED');

      const no = await start(app(), 'approvals');
      await waitForStep(app(), no, 'review', ['WAITING']);
      await app().ok(`mutation($r: ID!) { approveStep(runId: $r, stepId: "review", approved: false, comment: "not today") { status } }`, { r: no });
      const run = await waitForRun(app(), no, ['SUCCEEDED', 'FAILED']);
      expect(run.status).toBe('FAILED');
      expect(stepOf(run, 'review').error).toMatchObject({ code: 'REJECTED', message: 'rejected: not today' });
      expect(stepOf(run, 'ship').status).toBe('SKIPPED');
      // Deciding twice is an illegal transition, not a silent no-op.
      const again = await app().gql(`mutation($r: ID!) { approveStep(runId: $r, stepId: "review", approved: true) { status } }`, { r: no });
      expect(again.errors?.[0].extensions?.code).toBe('ILLEGAL_TRANSITION');
    });
  });
}
