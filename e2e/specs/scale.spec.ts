import { expect, test } from '@playwright/test';
import { gql, LIVE_TIMEOUT, shot } from '../support/helpers.ts';

/**
 * A 2,000-step run (root → 1,998 parallel noops → join) in the real browser. Asserts behaviour
 * only; the figures (first full render, frame times while events arrive) are printed.
 *
 * The root is a 15 s sleep: the page loads while the server is idle, and the sleep's progress
 * events (several a second) are the live stream the frames are measured under. The fan-out after
 * it is not waited for: completing the root currently stalls the server for about a minute
 * (reported as a server bug), which would put the run well past this suite's time budget.
 */
const WIDTH = 1998;

test('a 2,000-step run renders and stays responsive while events stream in', async ({ page, request }) => {
  test.setTimeout(150_000);
  const mids = Array.from({ length: WIDTH }, (_, i) => `n${String(i).padStart(4, '0')}`);
  const definition = {
    name: 'e2e-scale-2000',
    description: 'root, 1,998 parallel noops, join',
    steps: [
      { id: 'root', type: 'sleep', with: { ms: 15_000 } },
      ...mids.map((id) => ({ id, type: 'noop', needs: ['root'] })),
      { id: 'join', type: 'noop', needs: mids },
    ],
  };
  await gql(request, 'mutation($d: JSON!) { registerWorkflow(definition: $d) { name version } }', { d: definition });
  const { startRun } = await gql<{ startRun: { id: string } }>(request, 'mutation { startRun(workflow: "e2e-scale-2000") { id } }');

  // Frame times: every requestAnimationFrame gap, from the moment the document exists.
  await page.addInitScript(() => {
    const w = window as unknown as { __frames: number[]; __frameLoop: boolean };
    w.__frames = [];
    w.__frameLoop = true;
    let last = performance.now();
    const tick = (t: number) => {
      w.__frames.push(t - last);
      last = t;
      if (w.__frameLoop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });

  const t0 = Date.now();
  await page.goto(`/runs/${startRun.id}`);
  const dag = page.locator('[data-testid="dag"][data-nodes="2000"]');
  await expect(dag).toBeVisible({ timeout: LIVE_TIMEOUT });
  await expect(page.getByTestId('node-root')).toBeVisible({ timeout: LIVE_TIMEOUT });
  await expect(page.locator('.react-flow__node').nth(10)).toBeVisible();
  const firstRender = Date.now() - t0;
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    return { domContentLoaded: n ? Math.round(n.domContentLoadedEventEnd) : -1, now: Math.round(performance.now()) };
  });
  const rendered = await page.locator('.react-flow__node').count();
  console.log(`scale: first full render ${firstRender} ms, ${rendered} node elements`);

  // Sample frames while the run's events arrive.
  const seqAt = async () => Number((await page.getByTestId('event-log').locator('.event-log-head .small').textContent())?.replace(/\D/g, '') || 0);
  await page.evaluate(() => ((window as unknown as { __frames: number[] }).__frames = []));
  const seq0 = await seqAt();
  const s0 = Date.now();
  await expect
    .poll(async () => (await page.evaluate(() => (window as unknown as { __frames: number[] }).__frames.length)), { timeout: 40_000, intervals: [500] })
    .toBeGreaterThan(120);
  const seq1 = await seqAt();
  const seconds = (Date.now() - s0) / 1000;
  const frames = await page.evaluate(() => (window as unknown as { __frames: number[] }).__frames.slice());
  const sorted = [...frames].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

  // Responsive: the page still answers a click while events stream.
  const c0 = Date.now();
  await page.getByTestId('node-root').click();
  await expect(page.getByTestId('step-drawer')).toBeVisible();
  const clickToDrawer = Date.now() - c0;
  await shot(page, 'scale-2000');

  console.log(
    [
      `scale: 2,000-step run ${startRun.id}`,
      `  first full render of the graph (goto → 2,000-node DAG laid out, nodes on screen): ${firstRender} ms` +
        ` (DOMContentLoaded ${nav.domContentLoaded} ms; ${rendered} node elements rendered of 2,000, the rest culled off-screen)`,
      `  events while sampling: ${seq1 - seq0} in ${seconds.toFixed(1)} s (${((seq1 - seq0) / seconds).toFixed(0)}/s)`,
      `  frame times over ${frames.length} frames: p50 ${pct(50).toFixed(1)} ms, p95 ${pct(95).toFixed(1)} ms,` +
        ` p99 ${pct(99).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms, frames > 50 ms: ${frames.filter((f) => f > 50).length}`,
      `  click on a node → drawer visible: ${clickToDrawer} ms`,
    ].join('\n'),
  );

  expect(rendered).toBeGreaterThan(10);
  await expect(page.getByTestId('step-drawer').getByTestId('drawer-status')).toHaveAttribute('data-status', /RUNNING|SUCCEEDED/);
});
