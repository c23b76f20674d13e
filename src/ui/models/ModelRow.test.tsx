/** A model row marks exactly one variant "best here" (two variants may both list the backend first). */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_CATALOG } from '../../state/catalog';
import { ModelRow } from './ModelRow';

const entry = BUILT_IN_CATALOG.find((candidate) => candidate.id === 'eva02-clip-b-16')!;

function render(backend: 'wasm' | 'webgpu'): string {
  return renderToStaticMarkup(
    <ModelRow
      entry={entry}
      stored={null}
      incomplete={null}
      transfer={null}
      isActive={false}
      backend={backend}
      hosting="hosted"
      onBuild={null}
      onUse={() => undefined}
      onDelete={() => undefined}
    />,
  );
}

describe('ModelRow', () => {
  it.each(['wasm', 'webgpu'] as const)('marks one variant best here on %s', (backend) => {
    const html = render(backend);
    expect(html.match(/best here/g)?.length).toBe(1);
  });
});
