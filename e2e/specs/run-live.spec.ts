import { expect, test } from '@playwright/test';
import { expectNodeStatus, expectRunStatus, LIVE_TIMEOUT, node, shot } from '../support/helpers.ts';

test('start a run from the workflow page and watch its nodes turn green live', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Workflows' })).toBeVisible();
  await expect(page.getByTestId('workflow-row')).toHaveCount(5);
  await shot(page, 'workflows');

  await page.getByRole('link', { name: 'e2e-diamond', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'e2e-diamond' })).toBeVisible();
  await expect(node(page, 'join')).toBeVisible();

  // The input is checked against inputSchema before it is sent.
  const input = page.getByTestId('run-input');
  await input.fill('{"label": 3}');
  await expect(page.getByTestId('input-faults')).toHaveText(/input.label must be string/);
  await expect(page.getByRole('button', { name: 'Start run' })).toBeDisabled();
  await input.fill('{ not json');
  await expect(page.getByTestId('input-faults')).toHaveText(/not valid JSON/);
  await input.fill('{"label": "from the browser"}');
  await expect(page.getByTestId('input-faults')).toBeHidden();
  await shot(page, 'workflow');
  await page.getByRole('button', { name: 'Start run' }).click();

  await page.waitForURL(/\/runs\/[^/]+$/);
  // Seen live: a step running, then every step succeeded, without reloading.
  await expect(page.locator('[data-status="RUNNING"][data-testid^="node-"]').first()).toBeVisible({ timeout: LIVE_TIMEOUT });
  await shot(page, 'run-running');
  for (const s of ['start', 'left', 'right', 'join']) await expectNodeStatus(page, s, 'SUCCEEDED');
  await expectRunStatus(page, 'SUCCEEDED');
  await expect(page.getByTestId('steps-done')).toHaveText('4/4 steps');
  await expect(page.getByTestId('gantt')).toContainText('right');
  await expect(page.getByTestId('event-log')).toContainText('RUN_SUCCEEDED');
  await shot(page, 'run-succeeded');

  // The step drawer: input, output, attempts.
  await node(page, 'right').click();
  const drawer = page.getByTestId('step-drawer');
  await expect(drawer.getByTestId('drawer-status')).toHaveAttribute('data-status', 'SUCCEEDED');
  await expect(drawer.getByTestId('step-output')).toContainText('sleptMs');
  await expect(drawer).toContainText('"ms": 800');
  await shot(page, 'run-drawer');

  // The runs list shows it, live, and filters by status.
  await page.getByRole('navigation').getByRole('link', { name: 'Runs', exact: true }).click();
  await expect(page.getByTestId('run-row').first()).toContainText('SUCCEEDED');
  await page.getByRole('button', { name: /SUCCEEDED/ }).click();
  await expect(page).toHaveURL(/status=SUCCEEDED/);
  await expect(page.getByTestId('run-row').first()).toContainText('e2e-diamond');
  await expect(page.getByTestId('run-row').filter({ hasNotText: 'SUCCEEDED' })).toHaveCount(0);
  await shot(page, 'runs');
});

test('an input the server refuses is shown with its code', async ({ page }) => {
  await page.goto('/workflows/e2e-diamond');
  // The client's check knows type and required, not minLength: the server names this one.
  await page.getByTestId('run-input').fill('{"label": ""}');
  await expect(page.getByTestId('input-faults')).toBeHidden();
  await page.getByRole('button', { name: 'Start run' }).click();
  const error = page.getByRole('alert');
  await expect(error).toContainText('INVALID_INPUT');
  await shot(page, 'workflow-invalid-input');

  await page.goto('/workflows/no-such-workflow');
  await expect(page.getByRole('alert')).toContainText('NOT_FOUND');
});

test('queues and workers show a live worker', async ({ page }) => {
  await page.goto('/queues');
  await expect(page.getByTestId('workers-table')).toContainText('alive');
  await expect(page.getByTestId('queues-table').locator('tbody tr').first()).toBeVisible();
  await shot(page, 'queues');
});
