import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { expectNodeStatus, expectRunStatus, LIVE_TIMEOUT } from '../support/helpers.ts';
import { freePort, repoRoot, stopProcess, waitForHealth } from '../support/stack.ts';

/**
 * The zero-service mode in the browser: Skein with no DATABASE_URL and no REDIS_URL (embedded
 * Postgres, in-process bus), a run started from the UI and followed live to its end.
 */
let child: ChildProcess;
let url: string;
let dataDir: string;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  dataDir = mkdtempSync(path.join(tmpdir(), 'skein-e2e-embedded-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  child = spawn(process.execPath, ['server/bin/skein.mjs', 'all'], {
    cwd: repoRoot,
    env: { ...env, PORT: String(port), SKEIN_DATA_DIR: dataDir, WORKFLOWS_DIR: 'e2e/fixtures/workflows', WEB_DIST: 'web/dist', LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  await waitForHealth(url, child, 90_000);
});

test.afterAll(async () => {
  if (child?.pid) await stopProcess(child.pid);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('with nothing but Node: start a run in the browser and watch it finish live', async ({ page, request }) => {
  const health = await (await request.get(`${url}/health`)).json();
  expect(health).toMatchObject({ ok: true, bus: 'local' });
  await page.goto(`${url}/workflows/e2e-diamond`);
  await expect(page.getByRole('heading', { name: 'e2e-diamond' })).toBeVisible();
  await page.getByTestId('run-input').fill('{"label": "embedded"}');
  await page.getByRole('button', { name: 'Start run' }).click();
  await page.waitForURL(/\/runs\/[^/]+$/);
  for (const s of ['start', 'left', 'right', 'join']) await expectNodeStatus(page, s, 'SUCCEEDED');
  await expectRunStatus(page, 'SUCCEEDED');
  await expect(page.getByTestId('event-log')).toContainText('RUN_SUCCEEDED', { timeout: LIVE_TIMEOUT });
  await page.screenshot({ path: test.info().outputPath('embedded-run.png') });
});
