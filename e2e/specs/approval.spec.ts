import { expect, test } from '@playwright/test';
import { expectNodeStatus, expectRunStatus, node, shot, startFromList } from '../support/helpers.ts';

test('approve a waiting step', async ({ page }) => {
  await startFromList(page, 'e2e-approval');
  await expectNodeStatus(page, 'review', 'WAITING');
  await expect(page.getByTestId('waiting-callout')).toContainText('review');
  await node(page, 'review').click();
  const approval = page.getByTestId('approval');
  await expect(approval).toContainText('Waiting for approval');
  await approval.getByLabel(/Comment/).fill('looks good');
  await shot(page, 'approval-waiting');
  await approval.getByRole('button', { name: /Approve/ }).click();
  await expectNodeStatus(page, 'review', 'SUCCEEDED');
  await expectNodeStatus(page, 'publish', 'SUCCEEDED');
  await expectRunStatus(page, 'SUCCEEDED');
  await expect(page.getByTestId('step-drawer').getByTestId('step-output')).toContainText('looks good');
});

test('reject a waiting step', async ({ page }) => {
  await startFromList(page, 'e2e-approval');
  await expectNodeStatus(page, 'review', 'WAITING');
  await page.getByTestId('waiting-callout').getByRole('button', { name: 'review' }).click();
  const approval = page.getByTestId('approval');
  await approval.getByLabel(/Comment/).fill('not this week');
  await approval.getByRole('button', { name: /Reject/ }).click();
  await expectNodeStatus(page, 'review', 'FAILED');
  await expectNodeStatus(page, 'publish', 'SKIPPED');
  await expectNodeStatus(page, 'notify', 'SUCCEEDED'); // trigger: allDone
  await expectRunStatus(page, 'FAILED');
  const drawer = page.getByTestId('step-drawer');
  await expect(drawer).toContainText('REJECTED');
  await expect(drawer).toContainText('not this week');
  await shot(page, 'approval-rejected');
});
