/**
 * Which catalog models the configured model server really hosts. The built-in catalog lists EVA-CLIP models the
 * toolchain can convert, but a deployment hosts only what someone put there (the default one: the demo alone), so
 * the picker asks before it offers a Download that could only fail.
 */
import { manifestUrlFor } from './catalog';

/** 'hosted': its manifest answered JSON; 'absent': anything else (404, a web page, not JSON); 'unreachable': no answer. */
export type Hosting = 'hosted' | 'absent' | 'unreachable';

export interface HostingReport {
  /** The server asked (as configured); a report for another server is stale. */
  baseUrl: string;
  /** The browser says it is offline: nothing was asked. */
  offline: boolean;
  /** Online, but no request got an answer (no connection after all, or a server that refuses this page). */
  unreachable: boolean;
  byId: Record<string, Hosting>;
}

type FetchFn = (url: string, init?: RequestInit) => Promise<Response>;

/** Whether the manifest at `url` is a JSON object (a single-page-app fallback answers 200 with HTML). */
export async function probeManifest(fetchFn: FetchFn, url: string): Promise<Hosting> {
  let response: Response;
  try {
    response = await fetchFn(url, { cache: 'no-store' });
  } catch {
    return 'unreachable';
  }
  const type = response.headers.get('content-type') ?? '';
  if (!response.ok || type.includes('html')) {
    void response.body?.cancel().catch(() => undefined);
    return 'absent';
  }
  try {
    const json: unknown = await response.json();
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? 'hosted' : 'absent';
  } catch {
    return 'absent';
  }
}

/**
 * Asks the server at `baseUrl` for each model's manifest, all at once. Offline (`isOnline` false) nothing is sent
 * (a request the browser cannot send is logged as a console error), and the report says so.
 */
export async function probeHostedModels(
  ids: readonly string[],
  baseUrl: string,
  pageUrl: string,
  fetchFn: FetchFn,
  isOnline: boolean,
): Promise<HostingReport> {
  if (!isOnline) return { baseUrl, offline: true, unreachable: false, byId: {} };
  const results = await Promise.all(
    ids.map(
      async (id) => [id, await probeManifest(fetchFn, manifestUrlFor({ id }, baseUrl, pageUrl))] as const,
    ),
  );
  const byId = Object.fromEntries(results);
  const unreachable = results.length > 0 && results.every(([, hosting]) => hosting === 'unreachable');
  return { baseUrl, offline: false, unreachable, byId };
}
