import { useState } from 'react';
import { exportResults, sortIntoFolders } from '../../state/exportActions';
import { useLensStore } from '../../state/store';

/** CSV and JSON downloads of every score, and copying the images into one folder per top label. */
export function ExportButtons() {
  const canExport = useLensStore((state) => state.labelEmbeddings !== null && state.imageIds.length > 0);
  const [isSorting, setSorting] = useState(false);
  const sort = async () => {
    setSorting(true);
    try {
      await sortIntoFolders();
    } finally {
      setSorting(false);
    }
  };
  return (
    <div className="toolbar__group" role="group" aria-label="Export">
      <button
        type="button"
        className="button button--quiet button--small"
        disabled={!canExport}
        title="Every image's probability and cosine for every label, with the model id"
        onClick={() => exportResults('csv')}
      >
        Export CSV
      </button>
      <button
        type="button"
        className="button button--quiet button--small"
        disabled={!canExport}
        onClick={() => exportResults('json')}
      >
        Export JSON
      </button>
      <button
        type="button"
        className="button button--quiet button--small"
        disabled={!canExport || isSorting}
        title="Copies each image into a folder named after its top label (the originals stay where they are)"
        onClick={() => void sort()}
      >
        {isSorting ? 'Sorting…' : 'Sort into folders'}
      </button>
    </div>
  );
}
