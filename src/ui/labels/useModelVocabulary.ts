import { useMemo } from 'react';
import { useLensStore } from '../../state/store';
import { modelInUseVocabulary, type ModelInUseVocabulary } from '../../state/vocabulary';

/** The closed vocabulary of the model in use (the demo's 8 colours × 6 shapes), or null for a real CLIP. */
export function useModelVocabulary(): ModelInUseVocabulary | null {
  const manifest = useLensStore((state) => state.model?.manifest);
  const catalog = useLensStore((state) => state.catalog);
  return useMemo(() => modelInUseVocabulary(manifest, catalog), [manifest, catalog]);
}
