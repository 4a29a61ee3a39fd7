import { describe, expect, it } from 'vitest';
import { countSteps, reduceRunEvent, reduceRunEvents, type LiveEvent, type LiveRun, type LiveStep } from './runState';

const step = (stepId: string, over: Partial<LiveStep> = {}): LiveStep => ({
  stepId, type: 'sleep', status: 'PENDING', attempt: 0, maxAttempts: 1, progress: 0, needs: [], ...over,
});

const base = (): LiveRun => ({
  runId: 'r1', status: 'QUEUED', lastSeq: 2, needsRefetch: false,
  steps: { a: step('a'), b: step('b', { needs: ['a'] }) },
});

let at = 0;
const ev = (seq: number, type: string, over: Partial<LiveEvent> = {}): LiveEvent => ({
  seq, type, at: new Date(Date.UTC(2026, 0, 1, 0, 0, at++)).toISOString(), ...over,
});

describe('run event reducer', () => {
  it('moves a step through queued, running with progress, succeeded', () => {
    let s = base();
    s = reduceRunEvent(s, ev(3, 'STEP_QUEUED', { stepId: 'a', status: 'QUEUED', attempt: 1 }));
    expect(s.steps.a).toMatchObject({ status: 'QUEUED', attempt: 1 });
    s = reduceRunEvent(s, ev(4, 'STEP_STARTED', { stepId: 'a', status: 'RUNNING', attempt: 1 }));
    expect(s.steps.a.status).toBe('RUNNING');
    expect(s.steps.a.startedAt).toBeTruthy();
    s = reduceRunEvent(s, ev(5, 'STEP_PROGRESS', { stepId: 'a', progress: 0.5, message: 'half' }));
    expect(s.steps.a).toMatchObject({ status: 'RUNNING', progress: 0.5, progressMessage: 'half' });
    s = reduceRunEvent(s, ev(6, 'STEP_SUCCEEDED', { stepId: 'a', status: 'SUCCEEDED', attempt: 1, progress: 1 }));
    expect(s.steps.a).toMatchObject({ status: 'SUCCEEDED', progress: 1 });
    expect(s.steps.a.finishedAt).toBeTruthy();
    expect(s.lastSeq).toBe(6);
    expect(s.steps.b.status).toBe('PENDING');
  });

  it('ignores events already in the state (replay after reconnect)', () => {
    const s = base();
    expect(reduceRunEvent(s, ev(2, 'STEP_STARTED', { stepId: 'a', status: 'RUNNING' }))).toBe(s);
    expect(reduceRunEvents(s, [ev(1, 'RUN_STARTED', { status: 'RUNNING' })])).toBe(s);
  });

  it('applies run status events and counts attempts on retry', () => {
    let s = base();
    s = reduceRunEvents(s, [
      ev(4, 'STEP_FAILED', { stepId: 'a', status: 'FAILED', attempt: 1 }),
      ev(3, 'RUN_STARTED', { status: 'RUNNING' }),
      ev(5, 'RUN_FAILED', { status: 'FAILED' }),
    ]);
    expect(s.status).toBe('FAILED');
    expect(s.steps.a.status).toBe('FAILED');
    s = reduceRunEvents(s, [
      ev(6, 'STEP_RESET', { stepId: 'a', status: 'PENDING', attempt: 1 }),
      ev(7, 'RUN_RETRIED', { status: 'RUNNING' }),
      ev(8, 'STEP_QUEUED', { stepId: 'a', status: 'QUEUED', attempt: 2 }),
    ]);
    expect(s.status).toBe('RUNNING');
    expect(s.steps.a).toMatchObject({ status: 'QUEUED', attempt: 2, progress: 0 });
    expect(s.needsRefetch).toBe(true);
  });

  it('does not mutate the state it was given', () => {
    const s = base();
    const frozen = JSON.stringify(s);
    reduceRunEvents(s, [ev(3, 'STEP_STARTED', { stepId: 'a', status: 'RUNNING', attempt: 1 })]);
    expect(JSON.stringify(s)).toBe(frozen);
  });

  it('asks for a refetch when an event names an unknown step', () => {
    const s = reduceRunEvent(base(), ev(3, 'STEP_QUEUED', { stepId: 'zzz', status: 'QUEUED' }));
    expect(s.needsRefetch).toBe(true);
    expect(s.lastSeq).toBe(3);
  });

  it('counts steps by status', () => {
    const s = reduceRunEvent(base(), ev(3, 'STEP_SKIPPED', { stepId: 'b', status: 'SKIPPED' }));
    expect(countSteps(s)).toEqual({ total: 2, done: 1, byStatus: { PENDING: 1, SKIPPED: 1 } });
  });
});
