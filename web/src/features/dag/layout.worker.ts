/// <reference lib="webworker" />
import { chooseLayout, layoutByDepth, layoutGraph, type ElkLike, type LayoutInput, type LayoutResult } from './layout';

export interface LayoutRequest {
  id: number;
  input: LayoutInput;
}

export type LayoutResponse = { id: number; result: LayoutResult } | { id: number; error: string };

let elk: Promise<ElkLike> | undefined;

// ELK (~1.9 MB) loads on the first graph small enough to use it.
function loadElk(): Promise<ElkLike> {
  elk ??= import('elkjs/lib/elk.bundled.js').then((m) => {
    // In a worker scope elk.bundled.js installs itself as `self.onmessage` (it thinks it is ELK's
    // own worker); take the scope back, the layout requests are ours.
    self.onmessage = null;
    return new m.default() as unknown as ElkLike;
  });
  return elk;
}

// Warm up at once: the worker is created when the app starts, long before the first graph.
void loadElk().catch(() => undefined);

self.addEventListener('message', async (e: MessageEvent<LayoutRequest>) => {
  const { id, input } = e.data;
  try {
    const result = chooseLayout(input) === 'depth' ? layoutByDepth(input) : await layoutGraph(await loadElk(), input);
    self.postMessage({ id, result } satisfies LayoutResponse);
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) } satisfies LayoutResponse);
  }
});
