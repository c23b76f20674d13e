/**
 * The small, driver-neutral surface the shared scenarios are written against (issue #20): every engine adapter
 * (puppeteer-core for Chromium and Firefox, selenium-webdriver for WebKitGTK) implements exactly this, so a
 * scenario never knows which browser or protocol it runs on.
 */

/** What a click or a typed text aims at: a `data-testid`, a CSS selector, or a button by its accessible name. */
export type Target = { testId: string } | { css: string } | { button: string | RegExp };

/** A file as the drop zone or a file input receives it; bytes travel to the page as base64. */
export interface PageFile {
  name: string;
  type: string;
  base64: string;
}

export interface EngineDriver {
  /** 'chromium' | 'firefox' | 'webkit' */
  readonly engine: EngineName;
  /** The browser's own name and version, as the driver reports it. */
  readonly version: string;
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  /**
   * Runs `fn(arg)` in the page and returns its (JSON) result; `fn` is sent as source text, so it must not close
   * over anything in Node.
   */
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** A real (driver) click on the first visible element matching `target`. */
  click(target: Target): Promise<void>;
  /** Focuses `target`, types `text` with real key events, then presses Enter when asked. */
  type(target: Target, text: string, pressEnter?: boolean): Promise<void>;
  screenshot(path: string): Promise<void>;
  close(): Promise<void>;
}

export type EngineName = 'chromium' | 'firefox' | 'webkit';

/**
 * Marks the first visible element matching the target with `data-engine-target` (so every driver can then click
 * it by one CSS selector) and returns whether one was found. Runs in the page.
 */
export function markTarget(target: {
  testId?: string;
  css?: string;
  button?: string;
  buttonPattern?: string;
}): boolean {
  for (const old of Array.from(document.querySelectorAll('[data-engine-target]')))
    old.removeAttribute('data-engine-target');
  const visible = (element: Element) => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  let candidates: Element[];
  if (target.testId) candidates = Array.from(document.querySelectorAll(`[data-testid="${target.testId}"]`));
  else if (target.css) candidates = Array.from(document.querySelectorAll(target.css));
  else {
    const pattern = target.buttonPattern ? new RegExp(target.buttonPattern) : null;
    candidates = Array.from(document.querySelectorAll('button, [role="button"]')).filter((element) => {
      const name = (element.getAttribute('aria-label') ?? element.textContent ?? '').trim();
      return pattern ? pattern.test(name) : name === target.button;
    });
  }
  const found = candidates.find(visible);
  if (!found) return false;
  found.setAttribute('data-engine-target', '');
  return true;
}

/** The serialisable form of a target for `markTarget`. */
export function targetArg(target: Target): Parameters<typeof markTarget>[0] {
  if ('testId' in target) return { testId: target.testId };
  if ('css' in target) return { css: target.css };
  return typeof target.button === 'string'
    ? { button: target.button }
    : { buttonPattern: target.button.source };
}

export const MARKED = '[data-engine-target]';

export function describeTarget(target: Target): string {
  if ('testId' in target) return `test id ${target.testId}`;
  if ('css' in target) return target.css;
  return `button ${String(target.button)}`;
}
