import { describe, expect, it, vi } from 'vitest';
import { probeHostedModels, probeManifest } from './hostedModels';

const json = (body: unknown) => Response.json(body);
const html = () => new Response('<!doctype html>', { headers: { 'content-type': 'text/html' } });

describe('which models the server hosts', () => {
  it('counts a manifest as hosted only when it answers a JSON object', async () => {
    const answer = async (response: () => Response | Promise<Response>) =>
      probeManifest(
        vi.fn(async () => response()) as unknown as typeof fetch,
        'https://m.test/x/manifest.json',
      );
    expect(await answer(() => json({ id: 'x' }))).toBe('hosted');
    expect(await answer(() => new Response('missing', { status: 404 }))).toBe('absent');
    // A single-page-app fallback answers 200 with the app's own page.
    expect(await answer(html)).toBe('absent');
    expect(
      await answer(() => new Response('not json {', { headers: { 'content-type': 'application/json' } })),
    ).toBe('absent');
    expect(await answer(() => json([1, 2]))).toBe('absent');
    expect(await answer(() => Promise.reject(new TypeError('Failed to fetch')))).toBe('unreachable');
  });

  it('asks <server><id>/manifest.json for each model and reports per id', async () => {
    const fetchFn = vi.fn(async (url: string) =>
      url.endsWith('/eva02-clip-b-16/manifest.json') ? json({ id: 'eva02-clip-b-16' }) : html(),
    );
    const report = await probeHostedModels(
      ['eva02-clip-b-16', 'eva02-clip-l-14'],
      'models/',
      'https://app.test/lens/',
      fetchFn as unknown as typeof fetch,
      true,
    );
    expect(fetchFn.mock.calls.map(([url]) => url)).toEqual([
      'https://app.test/lens/models/eva02-clip-b-16/manifest.json',
      'https://app.test/lens/models/eva02-clip-l-14/manifest.json',
    ]);
    expect(report).toEqual({
      baseUrl: 'models/',
      offline: false,
      unreachable: false,
      byId: { 'eva02-clip-b-16': 'hosted', 'eva02-clip-l-14': 'absent' },
    });
  });

  it('sends nothing offline, and says when no request got an answer', async () => {
    const fetchFn = vi.fn(async () => Promise.reject(new TypeError('Failed to fetch')));
    const offline = await probeHostedModels(['a'], 'm/', 'https://app.test/', fetchFn, false);
    expect(fetchFn).not.toHaveBeenCalled();
    expect(offline).toMatchObject({ offline: true, byId: {} });
    const silent = await probeHostedModels(['a', 'b'], 'm/', 'https://app.test/', fetchFn, true);
    expect(silent).toMatchObject({ offline: false, unreachable: true, byId: { a: 'unreachable' } });
  });
});
