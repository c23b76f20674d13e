import { useId, useState } from 'react';
import { plural } from '../../state/imageFiles';
import { selectRefusedFiles } from '../../state/selectors';
import { useLensStore } from '../../state/store';

/**
 * How many files gave no image, beside the image count, for as long as they are there (the notice that announced
 * them fades); one click lists each with the reason.
 */
export function RefusedFiles() {
  const refused = useLensStore(selectRefusedFiles);
  const [isOpen, setIsOpen] = useState(false);
  const listId = useId();
  if (refused.length === 0) return null;
  return (
    <div className="refused" data-testid="refused-files">
      <button
        type="button"
        className="button button--small refused__toggle"
        aria-expanded={isOpen}
        aria-controls={listId}
        onClick={() => setIsOpen((open) => !open)}
      >
        {plural(refused.length, 'file')} refused
      </button>
      {isOpen && (
        <ul className="refused__list" id={listId} aria-label="Refused files">
          {refused.map((file, index) => (
            <li key={file.imageId ?? `skipped-${index}`}>
              <strong dir="auto">{file.name}</strong>: {file.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
