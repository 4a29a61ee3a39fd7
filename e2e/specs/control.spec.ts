import { expect, test } from '@playwright/test';
import { expectNodeStatus, expectRunStatus, node, runAction, shot, startFromList } from '../support/helpers.ts';

test('pause a run, see it hold, resume it and see it finish', async ({ page }) => {
  await startFromList(page, 'e2e-long');
  await expectNodeStatus(page, 'first', 'RUNNING');
  await expect(page.getByRole('button', { name: /Resume/ })).toBeDisabled();

  await runAction(page, /Pause/, 'Pause run', /No new step will start.*running will finish first/);
  // The running step finishes; nothing new starts; the run holds.
  await expectRunStatus(page, 'PAUSED');
  await expectNodeStatus(page, 'first', 'SUCCEEDED');
  await expect(node(page, 'second')).not.toHaveAttribute('data-status', /RUNNING|SUCCEEDED/);
  await expect(page.getByRole('button', { name: /Pause/ })).toBeDisabled();
  await shot(page, 'run-paused');
  // It really holds: the event log ends with the pause and "second" stays where it was.
  await expect(page.getByTestId('event-log')).toContainText('RUN_PAUSED');
  await expect(node(page, 'second')).not.toHaveAttribute('data-status', /RUNNING|SUCCEEDED/);

  await runAction(page, /Resume/, 'Resume run', /ready will be scheduled/);
  await expectNodeStatus(page, 'second', 'RUNNING');
  await expectRunStatus(page, 'RUNNING');
  await expectNodeStatus(page, 'third', 'SUCCEEDED');
  await expectRunStatus(page, 'SUCCEEDED');
  await expect(node(page, 'second').getByTestId('attempt')).toHaveText(/^1\//);
});

test('cancel a running run', async ({ page }) => {
  await startFromList(page, 'e2e-forever');
  await expectNodeStatus(page, 'wait', 'RUNNING');
  await runAction(page, /Cancel/, 'Cancel run', /running step\(s\) are aborted\. The run ends CANCELLED/);
  await expectRunStatus(page, 'CANCELLED');
  await expectNodeStatus(page, 'wait', 'CANCELLED');
  await expect(node(page, 'after')).toHaveAttribute('data-status', /CANCELLED|PENDING|SKIPPED/);
  // Cancelled runs can be retried, not paused or cancelled again.
  await expect(page.getByRole('button', { name: /Retry from failure/ })).toBeEnabled();
  await expect(page.getByRole('button', { name: /Cancel/ })).toBeDisabled();
  await shot(page, 'run-cancelled');
});
