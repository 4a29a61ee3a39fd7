import { fileURLToPath } from 'node:url';
import { expect, type APIRequestContext, type Page } from '@playwright/test';

const screens = fileURLToPath(new URL('../test-results/screens/', import.meta.url));

/** Generous: steps really run on the worker behind the page. */
export const LIVE_TIMEOUT = 30_000;

export async function gql<T>(request: APIRequestContext, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await request.post('/graphql', { data: { query, variables } });
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors?.length) throw new Error(body.errors.map((e) => `${e.extensions?.code ?? ''} ${e.message}`).join('; '));
  if (!body.data) throw new Error(`no data: ${res.status()}`);
  return body.data;
}

/** Starts a run from the Workflows list (its Start button) and lands on the run's page. */
export async function startFromList(page: Page, workflow: string): Promise<string> {
  await page.goto('/workflows');
  const row = page.getByTestId('workflow-row').filter({ has: page.getByRole('link', { name: workflow, exact: true }) });
  await row.getByRole('button', { name: /Start/ }).click();
  await page.waitForURL(/\/runs\/[^/]+$/);
  const id = new URL(page.url()).pathname.split('/').pop()!;
  await expect(page.getByTestId('event-log').getByTestId('connection')).toHaveText('● live', { timeout: LIVE_TIMEOUT });
  return id;
}

export function node(page: Page, stepId: string) {
  return page.getByTestId(`node-${stepId}`);
}

export async function expectNodeStatus(page: Page, stepId: string, status: string, timeout = LIVE_TIMEOUT) {
  await expect(node(page, stepId)).toHaveAttribute('data-status', status, { timeout });
}

export async function expectRunStatus(page: Page, status: string, timeout = LIVE_TIMEOUT) {
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', status, { timeout });
}

/** Clicks a run action and confirms it in the dialog, checking the dialog says what it will do. */
export async function runAction(page: Page, button: RegExp, confirm: string, explains: RegExp) {
  await page.getByRole('button', { name: button }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('confirm-explain')).toHaveText(explains);
  await dialog.getByRole('button', { name: confirm }).click();
  await expect(dialog).toBeHidden();
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${screens}${name}.png`, fullPage: true });
}
