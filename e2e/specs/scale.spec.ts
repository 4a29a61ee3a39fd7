import { expect, test, type Page } from '@playwright/test';
import { expectRunStatus, gql, LIVE_TIMEOUT, shot } from '../support/helpers.ts';

/**
 * A 2,000-step run (root → 1,998 parallel noops → join) in the real browser, from a quiet start to
 * the last of its ~6,000 events. Asserts behaviour only (every step's status reaches the screen,
 * the page answers clicks while events stream); the figures are printed:
 *   - first full render: goto → the 2,000-node graph laid out and its nodes on screen, while the
 *     server is idle (the root is a sleep that outlasts the page load);
 *   - frame times while the root's progress events arrive (a few a second), and while the fan-out
 *     runs (the server's full speed: hundreds of events a second).
 */
const WIDTH = 1998;

// Playwright's trace recorder (screencast and DOM snapshots) costs the page more than the page
// costs itself on this scale: the figures would measure the recorder.
test.use({ trace: 'off', screenshot: 'off' });
const ROOT_MS = 12_000;

interface Frames {
  frames: number[];
  longTasks: number[];
}

declare global {
  interface Window {
    __perf: Frames;
  }
}

async function takeFrames(page: Page): Promise<Frames> {
  return page.evaluate(() => {
    const out = { frames: window.__perf.frames.slice(), longTasks: window.__perf.longTasks.slice() };
    window.__perf.frames = [];
    window.__perf.longTasks = [];
    return out;
  });
}

function describe({ frames, longTasks }: Frames, seconds: number, events: number): string {
  const sorted = [...frames].sort((a, b) => a - b);
  const pct = (p: number) => (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0).toFixed(1);
  const blocked = longTasks.reduce((a, b) => a + b, 0);
  return (
    `${events} events in ${seconds.toFixed(1)} s (${(events / seconds).toFixed(0)}/s); ${frames.length} frames: ` +
    `p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms, ` +
    `frames > 50 ms: ${frames.filter((f) => f > 50).length}; long tasks: ${longTasks.length}, ${blocked.toFixed(0)} ms in all`
  );
}

test('a 2,000-step run renders, every status reaches the screen, and the page answers while events stream', async ({ page, request }) => {
  test.setTimeout(300_000);
  const mids = Array.from({ length: WIDTH }, (_, i) => `n${String(i).padStart(4, '0')}`);
  const definition = {
    name: 'e2e-scale-2000',
    description: 'root, 1,998 parallel noops, join',
    steps: [
      { id: 'root', type: 'sleep', with: { ms: ROOT_MS } },
      ...mids.map((id) => ({ id, type: 'noop', needs: ['root'] })),
      { id: 'join', type: 'noop', needs: mids },
    ],
  };
  await gql(request, 'mutation($d: JSON!) { registerWorkflow(definition: $d) { name version } }', { d: definition });
  const { startRun } = await gql<{ startRun: { id: string } }>(request, 'mutation { startRun(workflow: "e2e-scale-2000") { id } }');

  // Every requestAnimationFrame gap and every long task, from the moment the document exists.
  await page.addInitScript(() => {
    const perf: Frames = { frames: [], longTasks: [] };
    window.__perf = perf;
    let last = performance.now();
    const tick = (t: number) => {
      window.__perf.frames.push(t - last);
      last = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__perf.longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  // The server's view, to cut the phases where the server is, not where the screen is.
  const server = async () =>
    (
      await gql<{ run: { status: string; lastSeq: number; step: { status: string } } }>(
        request,
        'query($id: ID!) { run(id: $id) { status lastSeq step(stepId: "root") { status } } }',
        { id: startRun.id },
      )
    ).run;
  const until = async (what: (r: Awaited<ReturnType<typeof server>>) => boolean, timeout: number) => {
    let r = await server();
    const deadline = Date.now() + timeout;
    while (!what(r)) {
      if (Date.now() > deadline) throw new Error(`server state not reached in ${timeout} ms: ${JSON.stringify(r)}`);
      await new Promise((ok) => setTimeout(ok, 200));
      r = await server();
    }
    return r;
  };

  const t0 = Date.now();
  await page.goto(`/runs/${startRun.id}`);
  await expect(page.locator('[data-testid="dag"][data-nodes="2000"]')).toBeVisible({ timeout: LIVE_TIMEOUT });
  await expect(page.getByTestId('node-root')).toBeVisible({ timeout: LIVE_TIMEOUT });
  // The 1,998 parallel steps are drawn as one fan-out node until opened.
  const fan = page.getByTestId('fanout-n0000');
  await expect(fan).toHaveAttribute('data-members', String(WIDTH));
  await expect(page.getByTestId('node-join')).toBeVisible();
  const firstRender = Date.now() - t0;
  // Where the first render went: marks the app sets (snapshot read, layout done, graph ready).
  const breakdown = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const steps = performance.getEntriesByType('resource').find((r) => r.name.includes('RunSteps')) as PerformanceResourceTiming | undefined;
    const at = (name: string) => Math.round(performance.getEntriesByName(name)[0]?.startTime ?? -1);
    return [
      `DOMContentLoaded ${Math.round(nav.domContentLoadedEventEnd)}`,
      `snapshot request ${Math.round(steps?.startTime ?? -1)}→${Math.round(steps?.responseEnd ?? -1)} (${Math.round((steps?.encodedBodySize ?? 0) / 1024)} KB)`,
      `snapshot applied ${at('skein:snapshot')}`,
      `layout ${at('skein:layout')}`,
      `graph ready ${at('skein:graph')}`,
    ].join(', ');
  });
  const load = await takeFrames(page);
  const atRender = await server();

  // Opened, all 2,000 steps are laid out and those on screen drawn; closed again, one node.
  const o0 = Date.now();
  await fan.click();
  await expect(page.locator('[data-testid="dag"][data-drawn="2000"]')).toBeVisible();
  await expect(page.locator('.react-flow__node [data-testid^="node-n"]').nth(10)).toBeVisible();
  const openFan = Date.now() - o0;
  const rendered = await page.locator('.react-flow__node').count();
  await page.getByTestId('collapse-fanouts').click();
  await expect(fan).toBeVisible();
  await takeFrames(page);

  // While the root sleeps: its progress events, a few a second.
  const s0 = Date.now();
  const rootDone = await until((r) => r.step.status !== 'RUNNING' && r.step.status !== 'QUEUED', ROOT_MS + LIVE_TIMEOUT);
  const quiet = describe(await takeFrames(page), (Date.now() - s0) / 1000, rootDone.lastSeq - atRender.lastSeq);

  // The fan-out: 1,998 steps queued, started and finished as fast as the server goes. The
  // collapsed node counts them live; the page must open it and answer a click on a step meanwhile.
  const f0 = Date.now();
  await expect(fan).toHaveAttribute('data-counts', /QUEUED|RUNNING|SUCCEEDED/);
  await fan.click();
  await page.locator('.react-flow__node [data-testid^="node-n"]').first().click();
  const drawer = page.getByTestId('step-drawer');
  await expect(drawer).toBeVisible();
  const clickToDrawer = Date.now() - f0;
  await page.getByRole('button', { name: 'Close' }).click();
  const runDone = await until((r) => r.status === 'SUCCEEDED', 240_000);
  const fanout = describe(await takeFrames(page), (Date.now() - f0) / 1000, runDone.lastSeq - rootDone.lastSeq);
  const c0 = Date.now();
  await expectRunStatus(page, 'SUCCEEDED', LIVE_TIMEOUT);
  await expect(page.getByTestId('steps-done')).toHaveText('2000/2000 steps');
  const catchUp = Date.now() - c0;

  // Every step's status reached the screen: the counts, the steps on screen, the fan-out's counts.
  await expect(page.locator('.count-chip')).toHaveText(['✓ 2000 succeeded']);
  const onScreen = page.locator('.react-flow__node [data-testid^="node-"]');
  expect(await onScreen.count()).toBeGreaterThan(10);
  await expect(onScreen.and(page.locator(':not([data-status="SUCCEEDED"])'))).toHaveCount(0);
  await page.getByTestId('collapse-fanouts').click();
  await expect(fan).toHaveAttribute('data-counts', `SUCCEEDED:${WIDTH}`);
  await page.getByTestId('node-join').click();
  await expect(drawer.getByTestId('drawer-status')).toHaveAttribute('data-status', 'SUCCEEDED');
  await shot(page, 'scale-2000');

  console.log(
    [
      `scale: 2,000-step run ${startRun.id}`,
      `  first full render (goto → 2,000-step graph laid out and on screen, the fan-out collapsed): ${firstRender} ms;` +
        ` ${atRender.lastSeq} events stored by then`,
      `  open the fan-out (click → 2,000 nodes laid out, those on screen drawn): ${openFan} ms; ${rendered} node elements (the rest culled)`,
      `  where it went (ms from navigation): ${breakdown}`,
      `  frames during the load: ${describe(load, firstRender / 1000, 0)}`,
      `  root sleeping: ${quiet}`,
      `  fan-out: ${fanout}`,
      `  as the fan-out starts, open it and click a step → drawer visible: ${clickToDrawer} ms`,
      `  the screen showed the run SUCCEEDED ${catchUp} ms after the server said so`,
    ].join('\n'),
  );
});
