import { expect, test } from '@playwright/test';

test('the nav links to GraphiQL, which runs a query', async ({ page, request }) => {
  await page.goto('/workflows');
  const link = page.getByRole('navigation').getByRole('link', { name: /GraphiQL/ });
  await expect(link).toHaveAttribute('href', '/graphql');

  const html = await request.get('/graphql', { headers: { accept: 'text/html' } });
  expect(html.status()).toBe(200);
  expect(await html.text()).toContain('GraphiQL');

  // The query comes in the URL (GraphiQL reads `?query=`), as a shared link would carry it.
  await page.goto(`/graphql?query=${encodeURIComponent('{ workflows { name } }')}`);
  // GraphiQL is served with its assets inlined, so it renders without internet access.
  const editor = page.locator('.graphiql-query-editor, .graphiql-editor').first();
  await expect(editor).toBeVisible({ timeout: 20_000 });

  await expect(editor).toContainText('workflows');
  await page.getByRole('button', { name: /Execute query/i }).click();
  await expect(page.locator('.graphiql-response, .result-window').first()).toContainText('e2e-diamond', { timeout: 15_000 });
  await page.screenshot({ path: test.info().outputPath('graphiql.png') });
});
