/**
 * The app's Content-Security-Policy, one string for every place that delivers it: a `<meta>` tag in the built
 * index.html (first visit, any host), the preview server's headers, and the service worker's headers on every
 * response it serves (so the inference worker, which a `<meta>` tag does not cover, gets it too).
 *
 * - Scripts only from the app's own origin, no inline script, no eval. `'wasm-unsafe-eval'` is the one exception:
 *   compiling WebAssembly is how onnxruntime-web runs at all.
 * - Images from the app and from `blob:` (thumbnails made on the device) and `data:`.
 * - Network: the app's origin, plus model servers the person chooses in Models (any https origin; http only on
 *   this machine, for a server run locally). Images and labels are never sent anywhere: nothing in the app sends
 *   them, and the e2e suite records every request to prove it.
 * - No plugins, no framing, no form posts, no `<base>` tricks.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "connect-src 'self' https: http://127.0.0.1:* http://localhost:*",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/** Header-only directives (a `<meta>` policy ignores them). */
export const CONTENT_SECURITY_POLICY_HEADER = `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`;
