import { expect, test } from '@playwright/test';
import { expectNodeStatus, expectRunStatus, node, runAction, shot, startFromList } from '../support/helpers.ts';

test('retry a failed run from the failure: only the failed part runs again', async ({ page }) => {
  await startFromList(page, 'e2e-retry');
  await expectNodeStatus(page, 'flaky', 'FAILED');
  await expectRunStatus(page, 'FAILED');
  await expectNodeStatus(page, 'side', 'SUCCEEDED');
  await expectNodeStatus(page, 'finish', 'SKIPPED');
  await expect(page.getByTestId('run-error')).toContainText('first attempt fails on purpose');
  await expect(node(page, 'flaky').getByTestId('attempt')).toHaveText(/^1\//);
  await shot(page, 'retry-failed');

  await runAction(page, /Retry from failure/, 'Retry run', /Only the 2 step\(s\) that did not succeed run again/);
  await expectRunStatus(page, 'SUCCEEDED');
  await expectNodeStatus(page, 'flaky', 'SUCCEEDED');
  await expectNodeStatus(page, 'finish', 'SUCCEEDED');
  // Attempt numbers go on counting for what re-ran; what had succeeded did not run again.
  await expect(node(page, 'flaky').getByTestId('attempt')).toHaveText(/^2\//);
  await expect(node(page, 'setup').getByTestId('attempt')).toHaveText(/^1\//);
  await expect(node(page, 'side').getByTestId('attempt')).toHaveText(/^1\//);
  await expect(node(page, 'finish').getByTestId('attempt')).toHaveText(/^1\//);

  await node(page, 'flaky').click();
  const attempts = page.getByTestId('step-drawer').getByTestId('attempts').locator('tbody tr');
  await expect(attempts).toHaveCount(2);
  await expect(attempts.nth(0)).toContainText('FAILED');
  await expect(attempts.nth(1)).toContainText('SUCCEEDED');
  await shot(page, 'retry-succeeded');
});
