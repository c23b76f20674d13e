/// <reference lib="webworker" />
/**
 * The service worker (vite-plugin-pwa, injectManifest): precaches the app shell, the onnxruntime-web runtime, the demo
 * model and the samples, so the app starts and classifies with no network; downloaded models are read from model
 * storage by the inference worker and never pass through here.
 *
 * Every same-origin response it serves carries the cross-origin isolation headers (COOP/COEP/CORP). Without them
 * `SharedArrayBuffer` is missing and onnxruntime-web runs WASM on one thread, and static hosts often cannot set
 * headers — so the headers hold wherever the app is served from, once this worker controls the page.
 */
import {
  addPlugins,
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute, setCatchHandler } from 'workbox-routing';
import { CONTENT_SECURITY_POLICY_HEADER } from './contentSecurityPolicy';

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: (string | { url: string; revision: string | null })[];
};

const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // The policy travels with every script too: a dedicated worker takes its CSP from its own script's response.
  'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER,
};

/** The same response with the isolation headers added (opaque and error responses are passed on untouched). */
function withIsolationHeaders(response: Response): Response {
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0)
    return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

// Workbox only removes caches it made itself (its precache revisions), never the model store's `eva-lens-model:*`.
cleanupOutdatedCaches();
// Precache hits carry the headers too, whatever the host sent when they were fetched.
addPlugins([
  {
    handlerWillRespond: async ({ request, response }) =>
      new URL(request.url).pathname.endsWith('.wasm') ? response : withIsolationHeaders(response),
  },
]);
precacheAndRoute(self.__WB_MANIFEST);

// Navigations get the precached app shell (with the headers); runtime, model and data files never do.
const shell = createHandlerBoundToURL('index.html');
registerRoute(
  new NavigationRoute(async (options) => withIsolationHeaders(await shell(options)), {
    denylist: [/\.(?:wasm|mjs|onnx|json)$/i, /\/ort\//, /\/models\//, /\/samples\//],
  }),
);

// Other same-origin requests (not precached) go to the network, and their answers get the headers too.
registerRoute(
  ({ url, request }) => url.origin === self.location.origin && request.method === 'GET',
  async ({ request }) => withIsolationHeaders(await fetch(request)),
);
setCatchHandler(async () => Response.error());

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  // The update prompt's "Reload" (vite-plugin-pwa's updateServiceWorker) asks the waiting worker to take over.
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

// The first visit is controlled at once, so it works offline (and is isolated) without a second reload. The claim
// waits until this worker is 'activated': Firefox (ESR 153, measured) fails every request a page sends to a worker
// that claimed it while still 'activating' (NetworkError for fetches, NS_ERROR_INTERCEPTION_FAILED for a reload),
// which stopped "Try the samples" on a first visit. Where `self.serviceWorker` is missing, it claims at once.
self.addEventListener('activate', () => {
  const worker = (self as { serviceWorker?: ServiceWorker }).serviceWorker;
  if (!worker || worker.state === 'activated') {
    void self.clients.claim();
    return;
  }
  const claimOnceActivated = () => {
    if (worker.state !== 'activated') return;
    worker.removeEventListener('statechange', claimOnceActivated);
    void self.clients.claim();
  };
  worker.addEventListener('statechange', claimOnceActivated);
});
