import { useRegisterSW } from 'virtual:pwa-register/react';

/** The service worker is registered in 'prompt' mode: a new version waits until the user chooses to reload. */
export function UpdatePrompt() {
  const {
    needRefresh: [needsRefresh, setNeedsRefresh],
    offlineReady: [isOfflineReady, setIsOfflineReady],
    updateServiceWorker,
  } = useRegisterSW();

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
