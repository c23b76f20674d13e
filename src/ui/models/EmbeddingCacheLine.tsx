import { useEffect, useState } from 'react';
import type { EmbeddingCacheInfo } from '../../core/protocol';
import { clearEmbeddingCache, readEmbeddingCacheInfo } from '../../state/embeddingCacheActions';

/**
 * The image-embedding cache (results of images seen before, kept on this device so a folder opened again is
 * instant): how many images it holds, and a control that empties it.
 */
export function EmbeddingCacheLine() {
  const [info, setInfo] = useState<EmbeddingCacheInfo | null>(null);

  const refresh = () => readEmbeddingCacheInfo().then(setInfo);

  useEffect(() => {
    void refresh();
  }, []);

  const clear = async () => {
    await clearEmbeddingCache();
    await refresh();
  };

  if (!info) return null;
  return (
    <p className="storage-line muted models-section__row">
      {info.disabledReason
        ? `Image cache off: ${info.disabledReason}`
        : `Image cache: results of ${info.entries} ${info.entries === 1 ? 'image' : 'images'} kept on this device`}
      {info.entries > 0 && (
        <button type="button" className="button button--small button--quiet" onClick={() => void clear()}>
          Clear image cache
        </button>
      )}
    </p>
  );
}
