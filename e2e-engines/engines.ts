/**
 * One adapter per driver behind `EngineDriver` (driver.ts):
 *
 * - Chromium and Firefox: puppeteer-core. It drives Debian's own browsers with no driver binary of its own (CDP for
 *   Chromium, WebDriver BiDi for Firefox ESR; Debian packages no geckodriver), and downloads no browser.
 * - WebKitGTK (Safari's engine): selenium-webdriver against Debian's WebKitWebDriver, which starts MiniBrowser in
 *   automation mode under a virtual X display (xvfb-run). WebKitGTK speaks only classic WebDriver, so this is the
 *   one engine that needs a second client.
 *
 * A browser that is not installed makes `launchEngine` throw: the suite fails rather than skips
 * (scripts/system-deps.sh installs all three).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { Builder, By, Key, type WebDriver } from 'selenium-webdriver';
import {
  describeTarget,
  MARKED,
  markTarget,
  targetArg,
  type EngineDriver,
  type EngineName,
  type Target,
} from './driver';
import { freePort } from './server';

export const BROWSERS = {
  chromium: '/usr/bin/chromium',
  firefox: '/usr/bin/firefox-esr',
  webkitDriver: '/usr/bin/WebKitWebDriver',
  miniBrowser: '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
  xvfbRun: '/usr/bin/xvfb-run',
} as const;

const VIEWPORT = { width: 1280, height: 860 };
/** How long a click or a typed text waits for its element to appear. */
const FIND_TIMEOUT_MS = 30_000;

function requireFile(path: string, install: string): void {
  if (!existsSync(path))
    throw new Error(`${path} is missing: install it with apt-get install -y ${install}.`);
}

async function waitForMark(evaluate: EngineDriver['evaluate'], target: Target): Promise<void> {
  const deadline = Date.now() + FIND_TIMEOUT_MS;
  while (!(await evaluate(markTarget, targetArg(target)))) {
    if (Date.now() > deadline) throw new Error(`No visible element for ${describeTarget(target)}.`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

class PuppeteerDriver implements EngineDriver {
  constructor(
    readonly engine: EngineName,
    readonly version: string,
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  async goto(url: string): Promise<void> {
    await this.page.goto(url, { waitUntil: 'load' });
  }
  async reload(): Promise<void> {
    await this.page.reload({ waitUntil: 'load' });
  }
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    // Sent as source text so that both CDP and BiDi see the same function.
    return this.page.evaluate(`(${fn.toString()})(${JSON.stringify(arg) ?? 'undefined'})`) as Promise<R>;
  }
  async click(target: Target): Promise<void> {
    await waitForMark(this.evaluate.bind(this), target);
    await this.page.click(MARKED);
  }
  async type(target: Target, text: string, pressEnter = false): Promise<void> {
    await waitForMark(this.evaluate.bind(this), target);
    await this.page.click(MARKED);
    await this.page.keyboard.type(text);
    if (pressEnter) await this.page.keyboard.press('Enter');
  }
  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path: path as `${string}.png`, fullPage: true });
  }
  async close(): Promise<void> {
    await this.browser.close();
  }
}

async function launchPuppeteer(engine: 'chromium' | 'firefox'): Promise<EngineDriver> {
  const executablePath = engine === 'chromium' ? BROWSERS.chromium : BROWSERS.firefox;
  requireFile(executablePath, engine === 'chromium' ? 'chromium' : 'firefox-esr');
  const browser = await puppeteer.launch({
    browser: engine === 'chromium' ? 'chrome' : 'firefox',
    executablePath,
    headless: true,
    defaultViewport: VIEWPORT,
    protocolTimeout: 600_000,
    args:
      engine === 'chromium'
        ? ['--no-sandbox', '--disable-background-networking', '--disable-component-update']
        : [],
    // Firefox refuses to start as root without a HOME it owns.
    env: { ...process.env, HOME: process.env.HOME ?? '/root' },
  });
  const page = (await browser.pages())[0] ?? (await browser.newPage());
  page.setDefaultTimeout(120_000);
  return new PuppeteerDriver(engine, await browser.version(), browser, page);
}

/** One WebKitWebDriver (under its own virtual display) per test process, started on first use. */
let webkitService: { url: string; process: ChildProcess } | null = null;

async function startWebKitService(): Promise<string> {
  if (webkitService) return webkitService.url;
  requireFile(BROWSERS.webkitDriver, 'webkit2gtk-driver');
  requireFile(BROWSERS.miniBrowser, 'webkit2gtk-driver');
  requireFile(BROWSERS.xvfbRun, 'xvfb xauth');
  const port = await freePort();
  const child = spawn(
    BROWSERS.xvfbRun,
    ['-a', '-s', '-screen 0 1400x1000x24', BROWSERS.webkitDriver, `--port=${port}`],
    { detached: true, stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/status`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${child.exitCode}.`);
    if (Date.now() > deadline) throw new Error('WebKitWebDriver did not answer within 30 s.');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  webkitService = { url, process: child };
  return url;
}

/** Stops the WebKitWebDriver process group (xvfb-run, Xvfb, the driver) started by this process. */
export function stopWebKitService(): void {
  if (!webkitService?.process.pid) return;
  try {
    process.kill(-webkitService.process.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  webkitService = null;
}

class SeleniumDriver implements EngineDriver {
  readonly engine = 'webkit' as const;
  constructor(
    readonly version: string,
    private readonly driver: WebDriver,
  ) {}

  async goto(url: string): Promise<void> {
    await this.driver.get(url);
  }
  async reload(): Promise<void> {
    await this.driver.navigate().refresh();
  }
  async evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    const result = (await this.driver.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       Promise.resolve()
         .then(() => (${fn.toString()})(arguments[0]))
         .then((value) => done({ value: value === undefined ? null : value }),
               (error) => done({ error: String(error && error.stack || error) }));`,
      arg ?? null,
    )) as { value?: R; error?: string };
    if (result.error !== undefined) throw new Error(`In the page: ${result.error}`);
    return result.value as R;
  }
  async click(target: Target): Promise<void> {
    await waitForMark(this.evaluate.bind(this), target);
    await this.driver.findElement(By.css(MARKED)).click();
  }
  async type(target: Target, text: string, pressEnter = false): Promise<void> {
    await waitForMark(this.evaluate.bind(this), target);
    const element = await this.driver.findElement(By.css(MARKED));
    await element.click();
    await element.sendKeys(...(pressEnter ? [text, Key.ENTER] : [text]));
  }
  async screenshot(path: string): Promise<void> {
    writeFileSync(path, Buffer.from(await this.driver.takeScreenshot(), 'base64'));
  }
  async close(): Promise<void> {
    await this.driver.quit();
  }
}

async function launchWebKit(): Promise<EngineDriver> {
  const url = await startWebKitService();
  const driver = await new Builder()
    .usingServer(url)
    .withCapabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary: BROWSERS.miniBrowser, args: ['--automation'] },
    })
    .build();
  // A script whose page goes away (a reload, the server stopped) may never call back in WebKitWebDriver: it then
  // held the call for the whole script timeout (600 s once; the offline scenario hit its 360 s test timeout in CI).
  // No in-page call here needs more than seconds, so a short limit lets `poll` try again instead.
  await driver.manage().setTimeouts({ script: 60_000, pageLoad: 120_000 });
  await driver
    .manage()
    .window()
    .setRect({ x: 0, y: 0, ...VIEWPORT });
  const capabilities = await driver.getCapabilities();
  const version = `${String(capabilities.get('browserName'))} ${String(capabilities.get('browserVersion'))}`;
  return new SeleniumDriver(version, driver);
}

export function launchEngine(engine: EngineName): Promise<EngineDriver> {
  return engine === 'webkit' ? launchWebKit() : launchPuppeteer(engine);
}
