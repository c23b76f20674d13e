import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { loadModel } from './state/engineBridge';
import { installTestHook } from './state/testHook';
import { App } from './ui/shell/App';
import './ui/styles.css';

/**
 * On a host that cannot send COOP/COEP, the first visit is not cross-origin isolated (WASM on one thread); once the
 * service worker, which adds those headers, controls the page, one reload makes it isolated. Guarded so it can never
 * loop (a browser that ignores the headers keeps working on one thread).
 */
function reloadOnceForIsolation(): void {
  const key = 'eva-lens:isolation-reload';
  if (globalThis.crossOriginIsolated || !('serviceWorker' in navigator)) return;
  const reload = () => {
    try {
      if (sessionStorage.getItem(key)) return;
      sessionStorage.setItem(key, '1');
    } catch {
      return; // No session storage: no guard against a loop, so no reload.
    }
    location.reload();
  };
  if (navigator.serviceWorker.controller) reload();
  else navigator.serviceWorker.addEventListener('controllerchange', reload, { once: true });
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element.');

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Read-only store access for the Playwright suite; a no-op unless the browser is automated.
installTestHook();

reloadOnceForIsolation();

// Start downloading the model at once: by the time the first image is dropped it is usually ready.
void loadModel();
