import { createContext, useCallback, useContext, useSyncExternalStore } from 'react';
import type { LiveRun, LiveStep } from './runState';

type Listener = () => void;

/**
 * The live run outside React state, so an event re-renders only what it touches: each graph node
 * and the step drawer subscribe to their own step, the screen's summary to the whole run. On a
 * 2,000-step run a batch of events then costs the few nodes it changed (and only those mounted:
 * off-screen nodes are culled and have no listener), not a pass over every node.
 */
export class RunStore {
  private state: LiveRun | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly stepListeners = new Map<string, Set<Listener>>();

  get = (): LiveRun | null => this.state;

  step(stepId: string): LiveStep | undefined {
    return this.state?.steps[stepId];
  }

  /** Replaces the state; notifies the steps whose object changed, then the run's listeners. */
  set(next: LiveRun | null): void {
    const prev = this.state;
    if (next === prev) return;
    this.state = next;
    if (prev?.steps !== next?.steps) {
      for (const [stepId, set] of this.stepListeners) {
        if (prev?.steps[stepId] === next?.steps[stepId]) continue;
        for (const l of [...set]) l();
      }
    }
    for (const l of [...this.listeners]) l();
  }

  update(fn: (prev: LiveRun | null) => LiveRun | null): void {
    this.set(fn(this.state));
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  subscribeStep(stepId: string, listener: Listener): () => void {
    let set = this.stepListeners.get(stepId);
    if (!set) this.stepListeners.set(stepId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.stepListeners.get(stepId) === set) this.stepListeners.delete(stepId);
    };
  }
}

/** The run whose steps graph nodes show; absent on a workflow's graph (no statuses). */
export const RunStoreContext = createContext<RunStore | null>(null);

/** One step, live; re-renders the caller only when that step changes. */
export function useLiveStep(stepId: string | null | undefined, store?: RunStore | null): LiveStep | undefined {
  const fromContext = useContext(RunStoreContext);
  const s = store ?? fromContext;
  const subscribe = useCallback((l: Listener) => (s && stepId ? s.subscribeStep(stepId, l) : () => undefined), [s, stepId]);
  const get = useCallback(() => (s && stepId ? s.step(stepId) : undefined), [s, stepId]);
  return useSyncExternalStore(subscribe, get);
}

/** The whole run, live: for summaries (counts, timeline), not per-node views. */
export function useLiveRunState(store: RunStore): LiveRun | null {
  return useSyncExternalStore(store.subscribe, store.get);
}
