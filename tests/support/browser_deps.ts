/** Test-only third-party code: the browser driver. */
export { chromium } from "npm:playwright-core@1.65.1";
export type { BrowserContext, Page } from "npm:playwright-core@1.65.1";
