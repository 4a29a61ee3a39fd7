import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * Fixed-height rows in a scrolling box, of which only those in view (and a few either side) are
 * rendered: a 2,000-step run has 2,000 timeline rows and a thousand log lines.
 * Spread `box` on the scrolling element and `inner` on its single child; place row i at
 * `top: i * rowHeight`.
 */
export function useVirtualRows(count: number, rowHeight: number, viewHeight: number, overscan = 8) {
  const [top, setTop] = useState(0);
  const frame = useRef(0);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);
  const onScroll = useCallback((e: React.UIEvent<HTMLElement>) => {
    const el = e.currentTarget;
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => setTop(el.scrollTop));
  }, []);
  const from = Math.max(0, Math.floor(top / rowHeight) - overscan);
  const to = Math.min(count, Math.ceil((top + viewHeight) / rowHeight) + overscan);
  return {
    from,
    to,
    box: { onScroll, style: { maxHeight: viewHeight, overflow: 'auto' } as const },
    inner: { style: { height: count * rowHeight, position: 'relative' } as const },
    rowStyle: (i: number) => ({ position: 'absolute', top: i * rowHeight, left: 0, right: 0, height: rowHeight }) as const,
  };
}
