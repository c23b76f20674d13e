import { useEffect } from 'react';
import { useRegisterSW } from 'virtual:pwa-register/react';

/** How long "works offline" stays: it asks for nothing, so it leaves on its own like any other notice. */
export const OFFLINE_READY_MS = 6000;

/**
 * The service worker is registered in 'prompt' mode: a new version waits until the user chooses to reload (that
 * message stays until answered); "now works offline" only informs, and closes itself.
 */
export function UpdatePrompt() {
  const {
    needRefresh: [needsRefresh, setNeedsRefresh],
    offlineReady: [isOfflineReady, setIsOfflineReady],
    updateServiceWorker,
  } = useRegisterSW();

  useEffect(() => {
    if (!isOfflineReady || needsRefresh) return;
    const timer = setTimeout(() => setIsOfflineReady(false), OFFLINE_READY_MS);
    return () => clearTimeout(timer);
  }, [isOfflineReady, needsRefresh, setIsOfflineReady]);

  if (!needsRefresh && !isOfflineReady) return null;

  return (
    <div className="notice notice--info update-prompt" role="status">
      <span>{needsRefresh ? 'A new version of EVA Lens is ready.' : 'EVA Lens now works offline.'}</span>
      {needsRefresh && (
        <button
          type="button"
          className="button button--primary button--small"
          aria-label="Reload to update"
          onClick={() => {
            // workbox-window reloads only for an update it found itself; one the browser found later (a long-open
            // tab) is "external" and would activate without a reload, so the page reloads on the controller change.
            navigator.serviceWorker?.addEventListener('controllerchange', () => location.reload(), {
              once: true,
            });
            void updateServiceWorker(true);
          }}
        >
          Reload
        </button>
      )}
      <button
        type="button"
        className="icon-button"
        aria-label="Dismiss"
        onClick={() => {
          setNeedsRefresh(false);
          setIsOfflineReady(false);
        }}
      >
        ×
      </button>
    </div>
  );
}
