import { useRef, type ChangeEvent } from 'react';
import { addFiles } from '../../state/engineBridge';

/** Hands picked files to the bridge and clears the input, so picking the same files again fires a change. */
function onPick(event: ChangeEvent<HTMLInputElement>): void {
  const files = Array.from(event.target.files ?? []);
  event.target.value = '';
  if (files.length > 0) addFiles(files);
}

interface FilePickersProps {
  /** 'header': the app's main pickers (with the e2e test ids); 'empty': the larger ones of the empty page. */
  variant: 'header' | 'empty';
}

/**
 * "Add images" and "Add folder" buttons with their file inputs, hidden from sight and from screen readers alike (the
 * buttons open them; each button is named by its visible text).
 */
export function FilePickers({ variant }: FilePickersProps) {
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const isHeader = variant === 'header';

  return (
    <div className={`file-pickers file-pickers--${variant}`}>
      <button type="button" className="button" onClick={() => fileInput.current?.click()}>
        {isHeader ? 'Add images' : 'Choose images'}
      </button>
      <button type="button" className="button" onClick={() => folderInput.current?.click()}>
        {isHeader ? 'Add folder' : 'Choose a folder'}
      </button>
      <input
        ref={fileInput}
        data-testid={isHeader ? 'file-input' : undefined}
        className="visually-hidden"
        type="file"
        accept="image/*"
        multiple
        tabIndex={-1}
        aria-hidden="true"
        onChange={onPick}
      />
      <input
        ref={(element) => {
          folderInput.current = element;
          // Not in React's typings; set as a property so the input opens a folder chooser.
          if (element) element.webkitdirectory = true;
        }}
        data-testid={isHeader ? 'folder-input' : undefined}
        className="visually-hidden"
        type="file"
        multiple
        tabIndex={-1}
        aria-hidden="true"
        onChange={onPick}
      />
    </div>
  );
}
