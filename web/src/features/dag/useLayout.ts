import { useEffect, useState } from 'react';
import type { LayoutInput, LayoutResult } from './layout';
import type { LayoutRequest, LayoutResponse } from './layout.worker';

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (r: LayoutResult) => void; reject: (e: Error) => void }>();

function layoutWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<LayoutResponse>) => {
      const p = pending.get(e.data.id);
      if (!p) return;
      pending.delete(e.data.id);
      if ('error' in e.data) p.reject(new Error(`layout failed: ${e.data.error}`));
      else p.resolve(e.data.result);
    };
    worker.onerror = (e) => {
      for (const p of pending.values()) p.reject(new Error(`layout worker failed: ${e.message}`));
      pending.clear();
    };
  }
  return worker;
}

/** Starts the worker (and its ELK load) ahead of the first graph. */
export function warmLayout(): void {
  layoutWorker();
}

export function requestLayout(input: LayoutInput): Promise<LayoutResult> {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    layoutWorker().postMessage({ id, input } satisfies LayoutRequest);
  });
}

/** Lays out a graph off the main thread; `key` changes only when the graph's shape does. */
export function useLayout(key: string, build: () => LayoutInput): { layout?: LayoutResult; error?: Error } {
  const [state, setState] = useState<{ key?: string; layout?: LayoutResult; error?: Error }>({});
  useEffect(() => {
    let live = true;
    requestLayout(build()).then(
      (layout) => {
        performance.mark('skein:layout');
        if (live) setState({ key, layout });
      },
      (error: Error) => live && setState({ key, error }),
    );
    return () => {
      live = false;
    };
    // build is derived from key by the caller, so key alone decides when to lay out again.
  }, [key]);
  return state.key === key ? { layout: state.layout, error: state.error } : {};
}
